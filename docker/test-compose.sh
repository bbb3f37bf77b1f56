#!/usr/bin/env bash
# `make test-compose`: the compose stack end to end, on a fresh machine or a cached one.
#   dockerd (started when none answers) -> base image (debootstrap, cached) -> project image ->
#   compose up (chain, setup, facilitator, server) on free host ports -> checks from the host
#   through the published ports: 402 challenge, ports bound to 127.0.0.1 only, fault injection
#   needs the admin token, one paid request whose USDC reaches the merchant -> a short distributed
#   Locust run (master + 2 workers) -> everything torn down, also on failure.
# Prints "N passed, N failed" last; exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/compose.sh"

export COMPOSE_PROJECT_NAME="x402-sandbox-test-$$"
export X402_COMPOSE_STATE="$REPO_ROOT/.sandbox/compose-test"
STATE_DIR="$X402_COMPOSE_STATE"
HOST_HOME="$STATE_DIR/home"
export X402_ADMIN_TOKEN="test-admin-$RANDOM$RANDOM"
# The issue's contract: tested with Debian's docker-compose 1.29 (the file also targets v2).
export X402_COMPOSE="${X402_COMPOSE:-docker-compose}"
export X402_PAYERS=4
PY="$(host_python)"

# Free host ports, so the test runs beside a `make up` stack or another compose stack.
read -r X402_RPC_PORT X402_FACILITATOR_PORT X402_SERVER_PORT < <("$PY" - <<'PYCODE'
from sandbox.processes import free_port, free_port_pair
print(free_port_pair(), free_port(), free_port())
PYCODE
)
export X402_RPC_PORT X402_FACILITATOR_PORT X402_SERVER_PORT
export X402_WS_PORT=$((X402_RPC_PORT + 1))

PASSED=0
FAILED=0
started_all=$SECONDS
check() {  # check NAME COMMAND...: one named assertion
    local name="$1"
    shift
    if "$@"; then
        PASSED=$((PASSED + 1)); log "PASS $name"
    else
        FAILED=$((FAILED + 1)); log "FAIL $name"
    fi
}

cleanup() {
    local status=$?
    set +e
    if docker info >/dev/null 2>&1; then
        if [ "$FAILED" -gt 0 ] || [ "$status" -ne 0 ]; then
            compose --profile loadtest logs --no-color --tail 60 >"$STATE_DIR/stack.log" 2>&1
            log "last stack logs: $STATE_DIR/stack.log"
        fi
        compose --profile loadtest --profile agave down -v --remove-orphans >/dev/null 2>&1
        log "stack $COMPOSE_PROJECT_NAME torn down"
    fi
    stop_dockerd_if_started
    log "total $((SECONDS - started_all)) s"
    [ "$status" -eq 0 ] || echo "0 passed, 1 failed"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$STATE_DIR"
t=$SECONDS; prepare; log "images ready in $((SECONDS - t)) s; compose: $($X402_COMPOSE version --short 2>/dev/null || echo "$X402_COMPOSE")"
t=$SECONDS; stack_up; log "stack healthy in $((SECONDS - t)) s"

SERVER="http://127.0.0.1:$X402_SERVER_PORT"
FACILITATOR="http://127.0.0.1:$X402_FACILITATOR_PORT"
RPC="http://127.0.0.1:$X402_RPC_PORT"

http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

challenge_is_402() { [ "$(http_status "$SERVER/api/premium-content")" = 402 ]; }
check "unpaid request answers 402 through the published port" challenge_is_402

ports_on_loopback_only() {
    local service port bindings
    for service in chain facilitator server; do
        bindings="$(docker port "$(container_of "$service")")"
        echo "$bindings" | grep -q . || return 1
        if echo "$bindings" | grep -v -E -- '-> 127\.0\.0\.1:[0-9]+$' | grep -q .; then
            echo "$service publishes beyond loopback: $bindings" >&2
            return 1
        fi
    done
}
check "ports are published on 127.0.0.1 only" ports_on_loopback_only

# Calls from the host reach the containers from outside their loopback: admin endpoints must
# refuse them without the token and accept them with it.
faults_need_token() {
    local without with
    without="$(http_status "$FACILITATOR/_sandbox/faults")"
    with="$(http_status -H "Authorization: Bearer $X402_ADMIN_TOKEN" "$FACILITATOR/_sandbox/faults")"
    log "  /_sandbox/faults: $without without the token, $with with it"
    [ "$without" != 200 ] && [ "$with" = 200 ]
}
check "fault injection needs the admin token" faults_need_token

merchant_usdc() {
    "$PY" - "$HOST_HOME/stack.json" <<'PYCODE'
import json, sys, urllib.request
stack = json.load(open(sys.argv[1]))
merchant = next(w["address"] for w in stack["wallets"] if w["name"] == "merchant")
body = {"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountsByOwner",
        "params": [merchant, {"mint": stack["usdc_mint"]},
                   {"encoding": "jsonParsed", "commitment": "confirmed"}]}
req = urllib.request.Request(stack["rpc_url"], json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
accounts = json.load(urllib.request.urlopen(req, timeout=10))["result"]["value"]
print(sum(int(a["account"]["data"]["parsed"]["info"]["tokenAmount"]["amount"]) for a in accounts))
PYCODE
}

pay_one_request() {
    local before after
    before="$(merchant_usdc)" || return 1
    X402_SANDBOX_HOME="$HOST_HOME" "$PY" -m sandbox.payer "$SERVER/api/premium-content" \
        --keypair "$HOST_HOME/keys/payer-0.json" --rpc-url "$RPC" >"$STATE_DIR/pay.log" 2>&1 \
        || { tail -n 20 "$STATE_DIR/pay.log" >&2; return 1; }
    after="$(merchant_usdc)" || return 1
    log "  merchant USDC (atomic): $before -> $after"
    [ $((after - before)) -eq 10000 ]
}
check "one paid request from the host; the merchant receives 0.01 USDC" pay_one_request

export X402_LOAD_WORKERS=2 X402_LOAD_USERS=4 X402_LOAD_SPAWN_RATE=4 X402_LOAD_DURATION=15s
# Every paid 200 Locust counted moved 0.01 USDC to the merchant; a few more may have settled
# for requests the run's stop cut off (at most one per user).
loadtest_ok() {
    local t=$SECONDS before after paid
    before="$(merchant_usdc)" || return 1
    run_loadtest || return 1
    log "  Locust run took $((SECONDS - t)) s"
    grep -q "2 workers connected" "$STATE_DIR/locust-master.log" \
        || { log "  the master never saw 2 workers"; return 1; }
    paid="$("$PY" - "$STATE_DIR/reports/locust_stats.csv" <<'PYCODE'
import csv, sys
rows = {row["Name"]: row for row in csv.DictReader(open(sys.argv[1]))}
row = rows["paid request"]
assert int(row["Failure Count"]) == 0, row
print(int(row["Request Count"]))
PYCODE
)" || return 1
    after="$(merchant_usdc)" || return 1
    log "  $paid paid requests; merchant USDC (atomic): $before -> $after"
    [ "$paid" -gt 0 ] && [ $((after - before)) -ge $((paid * 10000)) ] \
        && [ $((after - before)) -le $(((paid + X402_LOAD_USERS) * 10000)) ]
}
check "distributed Locust run (master + 2 workers) with no failures" loadtest_ok

# X402_LOCUST_MODE=--autostart: the web UI's run must end (and the command return) by itself.
autostart_returns() {
    local t=$SECONDS pid
    ( X402_LOCUST_MODE=--autostart X402_LOAD_DURATION=5s run_loadtest ) >/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do  # poll: the run takes about 20 s
        if [ $((SECONDS - t)) -ge 150 ]; then
            kill "$pid"; log "  still running after 150 s"; return 1
        fi
        sleep 1
    done
    wait "$pid" || return 1
    log "  the --autostart run returned after $((SECONDS - t)) s"
}
check "an --autostart Locust run (web UI) returns when it ends" autostart_returns

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
