# One image for every sandbox service (chain, facilitator, server, setup, Locust master/worker);
# docker-compose.yml picks the command. Classic-builder syntax only: Debian's Docker 20.10 has no
# BuildKit. BASE_IMAGE needs python3 (3.11+) with venv; docker/test-compose.sh builds one with
# debootstrap where no registry can be pulled from.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="x402-solana-sandbox"

# The host's index settings, passed by docker/lib.sh from the host's pip configuration; empty
# means pip's defaults.
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
ARG PIP_TRUSTED_HOST=
# Extra packages beyond pyproject.toml's (space-separated), e.g. for a quick experiment.
ARG EXTRA_PACKAGES=

ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# The docker/.build/* wildcard copies what docker/lib.sh put there (the host's CA bundle, and the
# host .venv's versions as constraints, so the image runs what the tests ran) and matches
# nothing, without failing, when the image is built without it.
COPY pyproject.toml docker/requirements_from_pyproject.py docker/.build/* /app/build/
RUN set -eu; \
    [ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL; \
    [ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL; \
    [ -n "$PIP_TRUSTED_HOST" ] || unset PIP_TRUSTED_HOST; \
    if [ -s /app/build/pip-ca.crt ]; then export PIP_CERT=/app/build/pip-ca.crt; fi; \
    python3 -m venv /opt/venv; \
    python /app/build/requirements_from_pyproject.py /app/build/pyproject.toml \
        > /app/build/requirements.txt; \
    pip install --quiet --upgrade pip setuptools wheel; \
    if [ -s /app/build/constraints.txt ] && pip install --quiet -r /app/build/requirements.txt \
        -c /app/build/constraints.txt $EXTRA_PACKAGES; then :; \
    else pip install --quiet -r /app/build/requirements.txt $EXTRA_PACKAGES; fi; \
    rm -f /app/build/pip-ca.crt

# Then the source (.dockerignore admits only pyproject.toml, README.md, sandbox/, loadtests/,
# scenarios/ and docker/): editing code rebuilds only these layers.
COPY . /app/
RUN set -eu; \
    rm -rf /app/docker/.build; \
    [ -f README.md ] || echo "x402 Solana sandbox" > README.md; \
    pip install --quiet --no-deps --no-build-isolation /app; \
    rm -rf /app/build /app/*.egg-info; \
    groupadd --system --gid 10001 sandbox; \
    useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/sandbox sandbox; \
    mkdir -p /sandbox /reports /data; \
    chown sandbox:sandbox /sandbox /reports /data

USER sandbox
WORKDIR /data
EXPOSE 8899 8900 4022 4021 8089
CMD ["x402-sandbox", "--help"]
