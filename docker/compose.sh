#!/usr/bin/env bash
# The compose stack from the host: `bash docker/compose.sh up|down [--purge]|loadtest|status`.
#   up        build the images (cached), start chain, setup, facilitator, server; wait until
#             healthy; copy the wallets to .sandbox/compose/home (URLs rewritten to the published
#             ports) so host tools can pay: X402_SANDBOX_HOME=.sandbox/compose/home
#   down      stop and remove the containers; --purge also deletes the volumes (wallets, chain
#             state, ledger, reports)
#   loadtest  start the stack if needed, then Locust master + X402_LOAD_WORKERS workers (default
#             2), headless for X402_LOAD_DURATION (30s) with X402_LOAD_USERS users; reports are
#             copied to .sandbox/compose/reports/
# Environment: X402_RPC_PORT, X402_WS_PORT, X402_FACILITATOR_PORT, X402_SERVER_PORT (published
# host ports), X402_ADMIN_TOKEN, X402_PAYERS, X402_BASE_IMAGE, X402_COMPOSE (compose command).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export X402_RPC_PORT="${X402_RPC_PORT:-8899}"
export X402_WS_PORT="${X402_WS_PORT:-$((X402_RPC_PORT + 1))}"
export X402_FACILITATOR_PORT="${X402_FACILITATOR_PORT:-4022}"
export X402_SERVER_PORT="${X402_SERVER_PORT:-4021}"
HOST_HOME="$STATE_DIR/home"
compose_admin_token

container_of() { compose ps -q "$1" 2>/dev/null | head -n 1; }

health_of() {
    local id
    id="$(container_of "$1")"
    [ -n "$id" ] || { echo missing; return; }
    docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id"
}

# Wait until SERVICE's health check passes; on failure show its logs and fail.
wait_healthy() {
    local service="$1" timeout="${2:-180}" deadline=$((SECONDS + ${2:-180})) status
    while :; do
        status="$(health_of "$service")"
        [ "$status" = healthy ] && return 0
        if [ "$status" = unhealthy ] || [ "$status" = exited ] || [ $SECONDS -gt $deadline ]; then
            compose logs --tail 40 "$service" >&2 || true
            die "$service is $status after waiting up to ${timeout}s"
        fi
        sleep 1
    done
}

# The wallets and stack.json from the `home` volume, for host tools: in-network URLs become the
# published ports on 127.0.0.1 and /sandbox paths become the host copy.
export_home() {
    local setup_id
    setup_id="$(container_of setup)"
    [ -n "$setup_id" ] || die "no setup container: the stack is not up"
    rm -rf "$HOST_HOME"
    mkdir -p "$HOST_HOME"
    docker cp "$setup_id:/sandbox/." "$HOST_HOME/"
    chmod 700 "$HOST_HOME/keys"
    chmod 600 "$HOST_HOME"/keys/*.json
    # Host tools (status, scenarios, loadtest with X402_SANDBOX_HOME=$HOST_HOME) send it.
    (umask 077 && printf '%s\n' "$X402_ADMIN_TOKEN" >"$HOST_HOME/admin-token")
    local file
    for file in "$HOST_HOME/stack.json" "$HOST_HOME/stack.env"; do
        sed -i \
            -e "s#http://chain:8899#http://127.0.0.1:$X402_RPC_PORT#g" \
            -e "s#ws://chain:8900#ws://127.0.0.1:$X402_WS_PORT#g" \
            -e "s#http://facilitator:4022#http://127.0.0.1:$X402_FACILITATOR_PORT#g" \
            -e "s#http://server:4021#http://127.0.0.1:$X402_SERVER_PORT#g" \
            -e "s#\"/sandbox#\"$HOST_HOME#g" \
            -e "s#=/sandbox#=$HOST_HOME#g" \
            "$file"
    done
}

stack_up() {
    log "starting chain, setup, facilitator, server ($COMPOSE_PROJECT_NAME)"
    if ! compose up -d --no-build chain setup facilitator server >"$STATE_DIR/up.log" 2>&1; then
        cat "$STATE_DIR/up.log" >&2
        compose logs --tail 30 setup chain facilitator server >&2 || true
        die "compose up failed"
    fi
    local service
    for service in chain facilitator server; do wait_healthy "$service" 180; done
    export_home
}

print_summary() {
    cat <<SUMMARY

x402 sandbox (compose project $COMPOSE_PROJECT_NAME) is up:
  chain        http://127.0.0.1:$X402_RPC_PORT   (PubSub ws://127.0.0.1:$X402_WS_PORT)
  facilitator  http://127.0.0.1:$X402_FACILITATOR_PORT
  server       http://127.0.0.1:$X402_SERVER_PORT   (try /api/premium-content)
  wallets      $HOST_HOME/keys   (stack.json, stack.env beside them)
  admin token  in $HOST_HOME/admin-token (\$X402_ADMIN_TOKEN), for cheat codes and fault injection

  curl -i http://127.0.0.1:$X402_SERVER_PORT/api/premium-content      # the 402 challenge
  .venv/bin/python -m sandbox.payer http://127.0.0.1:$X402_SERVER_PORT/api/premium-content \\
      --keypair $HOST_HOME/keys/payer-0.json --rpc-url http://127.0.0.1:$X402_RPC_PORT
  make compose-loadtest        make compose-down
SUMMARY
}

stack_down() {
    local volumes=()
    [ "${1:-}" = "--purge" ] && volumes=(-v)
    if ! docker info >/dev/null 2>&1; then
        log "no Docker daemon answers: nothing to stop"
        return 0
    fi
    compose --profile loadtest --profile agave down --remove-orphans "${volumes[@]}" \
        >"$STATE_DIR/down.log" 2>&1 || { cat "$STATE_DIR/down.log" >&2; die "compose down failed"; }
    [ ${#volumes[@]} -eq 0 ] || rm -rf "$HOST_HOME"
    log "compose stack $COMPOSE_PROJECT_NAME stopped${volumes:+ and its volumes deleted}"
}

# A headless distributed Locust run: master + N workers; returns the master's exit status.
run_loadtest() {
    export X402_LOAD_WORKERS="${X402_LOAD_WORKERS:-2}"
    # An --autostart run keeps Locust's web UI up; --autoquit ends it 10 s after the run.
    if [ "${X402_LOCUST_MODE:-}" = "--autostart" ]; then
        export X402_LOCUST_QUIT="--autoquit=10"
    fi
    local locustfile="${X402_LOCUSTFILE:-locustfile_paid.py}"
    [ -f "$REPO_ROOT/loadtests/$locustfile" ] || die "loadtests/$locustfile does not exist"
    [ "$(health_of server)" = healthy ] || { prepare; stack_up; }
    log "Locust: 1 master + $X402_LOAD_WORKERS workers, ${X402_LOAD_USERS:-20} users, ${X402_LOAD_DURATION:-30s}"
    compose --profile loadtest rm -fsv locust-master worker >/dev/null 2>&1 || true
    compose --profile loadtest up -d --no-build --scale "worker=$X402_LOAD_WORKERS" \
        locust-master worker >"$STATE_DIR/loadtest-up.log" 2>&1 \
        || { cat "$STATE_DIR/loadtest-up.log" >&2; die "could not start Locust"; }
    local master status
    master="$(container_of locust-master)"
    status="$(docker wait "$master")"
    compose logs --no-color locust-master >"$STATE_DIR/locust-master.log" 2>&1 || true
    compose logs --no-color worker >"$STATE_DIR/locust-workers.log" 2>&1 || true
    mkdir -p "$STATE_DIR/reports"
    docker cp "$master:/reports/." "$STATE_DIR/reports/" 2>/dev/null || true
    # Locust prints its final tables last; show them.
    tail -n 40 "$STATE_DIR/locust-master.log"
    compose --profile loadtest rm -fsv locust-master worker >/dev/null 2>&1 || true
    log "Locust exited with $status; reports in $STATE_DIR/reports/, logs in $STATE_DIR/"
    return "$status"
}

main() {
    mkdir -p "$STATE_DIR"
    case "${1:-}" in
        up) prepare; stack_up; print_summary ;;
        down) shift; stack_down "$@" ;;
        loadtest) ensure_dockerd; run_loadtest ;;
        status) compose --profile loadtest ps ;;
        *) echo "usage: bash docker/compose.sh up | down [--purge] | loadtest | status" >&2; exit 2 ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
