# Shared by docker/*.sh: tools, the Docker daemon, the base image, the project image, compose.
# Sourced, not run. Every step is idempotent: a second call finds the work done and returns.
set -euo pipefail

DOCKER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DOCKER_DIR/.." && pwd)"
STATE_DIR="${X402_COMPOSE_STATE:-$REPO_ROOT/.sandbox/compose}"

# Debian's engine (20.10) has no BuildKit; the classic builder is what works everywhere here.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-x402-sandbox}"
export X402_BASE_SUITE="${X402_BASE_SUITE:-bookworm}"
export X402_BASE_IMAGE="${X402_BASE_IMAGE:-x402-sandbox-base:$X402_BASE_SUITE}"
export X402_SANDBOX_IMAGE="${X402_SANDBOX_IMAGE:-x402-sandbox:local}"

# The admin token of this state folder's stack: X402_ADMIN_TOKEN if set, else a random one made
# once and kept in $STATE_DIR/admin-token (0600). Never a public default.
compose_admin_token() {
    local file="$STATE_DIR/admin-token"
    if [ -z "${X402_ADMIN_TOKEN:-}" ]; then
        if [ ! -s "$file" ]; then
            mkdir -p "$STATE_DIR"
            (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$file")
        fi
        X402_ADMIN_TOKEN="$(cat "$file")"
    fi
    export X402_ADMIN_TOKEN
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

host_python() {
    if [ -x "$REPO_ROOT/.venv/bin/python" ]; then echo "$REPO_ROOT/.venv/bin/python"; else echo python3; fi
}

# apt-get install whatever of docker.io, docker-compose, debootstrap is missing.
ensure_tools() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker >/dev/null || missing+=(docker.io)
    if [ "${X402_COMPOSE:-}" = docker-compose ]; then
        command -v docker-compose >/dev/null || missing+=(docker-compose)
    else
        command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 \
            || missing+=(docker-compose)
    fi
    if [ "${1:-}" = "--with-debootstrap" ]; then
        command -v debootstrap >/dev/null || missing+=(debootstrap)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]})"
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Start dockerd in the background when no daemon answers; record its pid so a caller can stop
# exactly the daemon it started (DOCKERD_STARTED=1 then).
DOCKERD_STARTED=0
ensure_dockerd() {
    if docker info >/dev/null 2>&1; then return 0; fi
    [ "$(id -u)" = 0 ] || die "no Docker daemon answers and only root can start one"
    mkdir -p "$STATE_DIR"
    log "starting dockerd (log: $STATE_DIR/dockerd.log)"
    setsid nohup dockerd >"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
    echo $! >"$STATE_DIR/dockerd.pid"
    DOCKERD_STARTED=1
    local i
    for i in $(seq 1 120); do
        docker info >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$STATE_DIR/dockerd.pid")" 2>/dev/null || break
        sleep 0.5
    done
    tail -n 20 "$STATE_DIR/dockerd.log" >&2 || true
    die "dockerd did not come up"
}

stop_dockerd_if_started() {
    [ "$DOCKERD_STARTED" = 1 ] || return 0
    local pid
    pid="$(cat "$STATE_DIR/dockerd.pid" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    log "stopping the dockerd this script started (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$STATE_DIR/dockerd.pid"
}

# The base image: Debian + python3 + venv + pip + CA certificates, from debootstrap, because no
# registry is reachable to pull one. Built once per machine (skipped when the tag exists).
# X402_BASE_IMAGE=python:3.11-slim-bookworm (or any image with python3 -m venv) skips it.
ensure_base_image() {
    if docker image inspect "$X402_BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $X402_BASE_IMAGE: cached"
        return 0
    fi
    case "$X402_BASE_IMAGE" in
        x402-sandbox-base:*) ;;
        *) log "pulling base image $X402_BASE_IMAGE"; docker pull "$X402_BASE_IMAGE"; return ;;
    esac
    ensure_tools --with-debootstrap
    local mirror rootfs started
    mirror="$(python3 "$DOCKER_DIR/host_config.py" mirror "$X402_BASE_SUITE")"
    rootfs="$(mktemp -d "${TMPDIR:-/var/tmp}/x402-base.XXXXXX")"
    started=$SECONDS
    log "building base image $X402_BASE_IMAGE with debootstrap ($X402_BASE_SUITE, host's mirror)"
    if ! debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$X402_BASE_SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
        tail -n 30 "$rootfs.log" >&2
        rm -rf "$rootfs"
        die "debootstrap failed (log above)"
    fi
    # What an image never needs: package caches, docs, man pages, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
    tar -C "$rootfs" --numeric-owner -c . | docker import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' \
        - "$X402_BASE_IMAGE" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
    log "base image $X402_BASE_IMAGE built in $((SECONDS - started)) s"
}

# The project image. pip inside the build reaches the same index as the host's pip: its index
# settings and CA bundle are read from the host at build time, never written into the repo.
build_project_image() {
    local started=$SECONDS
    eval "$(python3 "$DOCKER_DIR/host_config.py" pip)"
    mkdir -p "$DOCKER_DIR/.build"
    if [ -n "$X402_PIP_CERT" ]; then
        cp "$X402_PIP_CERT" "$DOCKER_DIR/.build/pip-ca.crt"
    else
        rm -f "$DOCKER_DIR/.build/pip-ca.crt"
    fi
    # The versions the host's tests ran with (pip freeze of .venv), as constraints for the image.
    if [ -x "$REPO_ROOT/.venv/bin/pip" ]; then
        "$REPO_ROOT/.venv/bin/pip" freeze --exclude-editable 2>/dev/null \
            | grep -v -E '^(-e |#)|@ file:' >"$DOCKER_DIR/.build/constraints.txt.new" || true
        # Rewritten only when it changed, so the dependency layer stays cached.
        if cmp -s "$DOCKER_DIR/.build/constraints.txt.new" "$DOCKER_DIR/.build/constraints.txt"; then
            rm -f "$DOCKER_DIR/.build/constraints.txt.new"
        else
            mv "$DOCKER_DIR/.build/constraints.txt.new" "$DOCKER_DIR/.build/constraints.txt"
        fi
    fi
    log "building $X402_SANDBOX_IMAGE (FROM $X402_BASE_IMAGE)"
    # Host networking for the build: pip then sees the network exactly as the host's pip does
    # (a proxy on the host's loopback included).
    if ! docker build -t "$X402_SANDBOX_IMAGE" --network "${X402_BUILD_NETWORK:-host}" \
        --build-arg "BASE_IMAGE=$X402_BASE_IMAGE" \
        --build-arg "PIP_INDEX_URL=$X402_PIP_INDEX_URL" \
        --build-arg "PIP_EXTRA_INDEX_URL=$X402_PIP_EXTRA_INDEX_URL" \
        --build-arg "PIP_TRUSTED_HOST=$X402_PIP_TRUSTED_HOST" \
        --build-arg "EXTRA_PACKAGES=${X402_EXTRA_PACKAGES:-}" \
        -f "$REPO_ROOT/Dockerfile" "$REPO_ROOT" >"$STATE_DIR/build.log" 2>&1; then
        tail -n 40 "$STATE_DIR/build.log" >&2
        die "docker build failed (full log: $STATE_DIR/build.log)"
    fi
    # The image this build replaced is left untagged: drop it (and only our own such images).
    docker image prune -f --filter "label=org.opencontainers.image.title=x402-solana-sandbox" \
        >/dev/null 2>&1 || true
    log "image $X402_SANDBOX_IMAGE ready in $((SECONDS - started)) s"
}

# docker-compose 1.29 (Debian's) when present, else Compose v2; X402_COMPOSE overrides.
compose() {
    local cmd="${X402_COMPOSE:-}"
    if [ -z "$cmd" ]; then
        if command -v docker-compose >/dev/null; then cmd=docker-compose; else cmd="docker compose"; fi
    fi
    # shellcheck disable=SC2086
    $cmd -f "$REPO_ROOT/docker-compose.yml" -p "$COMPOSE_PROJECT_NAME" "$@"
}

prepare() {
    mkdir -p "$STATE_DIR"
    ensure_tools
    ensure_dockerd
    ensure_base_image
    build_project_image
}
