#!/usr/bin/env bash
# `make run`: start Redis (unless REDIS_URL is set) and a local chain, build the agent base images,
# migrate, collect static files, seed the demo data, deploy the contracts (chain_deploy), publish
# the catalog agents (agents/catalog/) through the submission pipeline (catalog_publish; skipped
# with a warning without Docker), then run a Celery worker, a run worker, Celery beat and the ASGI
# server side by side. Every output line carries the name of the process that wrote it. Ctrl-C (or
# any one process exiting) stops them all.
#
# Environment: AGENTNEXUS_PORT (default 8000), LOCAL_REDIS_PORT (default 6379), REDIS_URL,
# LOCAL_CHAIN_PORT (default 8545), CHAIN_RPC_URL (set = use that chain, start none),
# DATABASE_URL, DJANGO_SETTINGS_MODULE (default agentnexus.settings.local).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN="$ROOT/.venv/bin"
HOST=127.0.0.1
PORT="${AGENTNEXUS_PORT:-8000}"
URL="http://$HOST:$PORT"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-agentnexus.settings.local}"
export PYTHONUNBUFFERED=1

if [[ ! -x "$BIN/python" ]]; then
    echo "no .venv: run scripts/bootstrap.sh run (or make run)" >&2
    exit 1
fi

say() { printf '[run] %s\n' "$*"; }

# --- child processes ------------------------------------------------------------------------------
PIDS=()
NAMES=()

prefix() { # name: prefix every line; ignores Ctrl-C so the last lines of a stopping child still show
    trap '' INT TERM
    exec sed -u "s/^/$(printf '%-6s' "$1") | /"
}

spawn() { # name command...
    local name=$1
    shift
    # setsid: each child leads its own process group, so stopping it also stops its subprocesses
    # (Celery's pool workers). Without job control, setsid execs in place and $! is the child.
    setsid "$@" > >(prefix "$name") 2>&1 </dev/null &
    PIDS+=("$!")
    NAMES+=("$name")
}

alive() { kill -0 "$1" 2>/dev/null; }

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    local pid i any
    trap - EXIT INT TERM
    ((${#PIDS[@]})) || return 0
    say "stopping ${NAMES[*]}"
    for pid in "${PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for ((i = 0; i < 100; i++)); do # up to 10 s for a graceful stop
        any=0
        for pid in "${PIDS[@]}"; do
            alive "$pid" && any=1
        done
        ((any)) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_children() { # exit if any child has died
    local i
    for i in "${!PIDS[@]}"; do
        if ! alive "${PIDS[$i]}"; then
            say "${NAMES[$i]} exited before $URL came up"
            exit 1
        fi
    done
}

port_free() {
    "$BIN/python" - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
finally:
    s.close()
PY
}

redis_ping() { # port
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [[ "$reply" == "+PONG"* ]]
    ) 2>/dev/null
}

chain_ready() {
    "$BIN/python" - "$CHAIN_RPC_URL" <<'PY' >/dev/null 2>&1
import json, sys, urllib.request
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
request = urllib.request.Request(sys.argv[1], body, {"Content-Type": "application/json"})
json.load(urllib.request.urlopen(request, timeout=2))["result"]
PY
}

healthy() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$URL/healthz" 2>/dev/null
    else
        "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "$URL/healthz" >/dev/null 2>&1
    fi
}

if ! port_free "$PORT"; then
    say "127.0.0.1:$PORT is already in use; stop that process or set AGENTNEXUS_PORT"
    exit 1
fi

# --- Redis first: the setup commands below may touch the cache ------------------------------------
if [[ -z "${REDIS_URL:-}" ]]; then
    redis_port="${LOCAL_REDIS_PORT:-6379}"
    export REDIS_URL="redis://127.0.0.1:$redis_port/0"
    spawn redis "$ROOT/scripts/local_redis.sh"
    for ((i = 0; i < 150; i++)); do
        redis_ping "$redis_port" && break
        check_children
        sleep 0.1
    done
    redis_ping "$redis_port" || {
        say "Redis did not answer on 127.0.0.1:$redis_port"
        exit 1
    }
fi

# --- a local chain (unless CHAIN_RPC_URL is set), kept across runs in .cache/ -----------------------
if [[ -z "${CHAIN_RPC_URL:-}" ]]; then
    chain_port="${LOCAL_CHAIN_PORT:-8545}"
    if ! port_free "$chain_port"; then
        say "127.0.0.1:$chain_port (local chain) is already in use; stop that process or set LOCAL_CHAIN_PORT"
        exit 1
    fi
    export CHAIN_RPC_URL="http://127.0.0.1:$chain_port"
    mkdir -p "$ROOT/.cache"
    spawn chain "$BIN/python" -m payments.chain.anvil --port "$chain_port" \
        --state "$ROOT/.cache/anvil-state.json"
fi

# --- the agent base images (Docker engine needed to build and run agents; browsing works without) ---
# The catalog agents' own images are built below by catalog_publish, through the pipeline.
docker_ok=1
if ! "$ROOT/scripts/docker_images.sh" --base-only; then
    docker_ok=0
    say "warning: the agent base images could not be built (the Docker engine is needed; see"
    say "         README): the catalog agents will not be published and runs will fail"
fi

# --- one-off setup ----------------------------------------------------------------------------------
say "migrate"
"$BIN/python" manage.py migrate --noinput
say "collectstatic"
"$BIN/python" manage.py collectstatic --noinput -v 0
say "seed_demo"
"$BIN/python" manage.py seed_demo
say "chain_deploy"
for ((i = 0; i < 200; i++)); do # anvil answers within a second or two
    chain_ready && break
    check_children
    sleep 0.1
done
"$BIN/python" manage.py chain_deploy
if ((docker_ok)); then
    # Built, scanned, smoke-tested and approved here, in this process (no worker needed); owned by
    # the demo developer, whose payout address lets chain_deploy's escrow sell their runs.
    say "catalog_publish"
    if ! "$BIN/python" manage.py catalog_publish --developer-email dev@agentnexus.local; then
        say "warning: some catalog agents were not published (see above); make run goes on"
    fi
else
    say "catalog_publish skipped: no Docker engine (run make run again once Docker works)"
fi

# --- long-running processes --------------------------------------------------------------------------
spawn worker "$BIN/celery" -A agentnexus worker -l info --concurrency 2 -n "worker@%h"
# Runs wait on their containers: one thread each, on their own queue (docs/decisions/0006).
spawn runner "$BIN/celery" -A agentnexus worker -l info -Q runs -P threads \
    --concurrency "${RUNTIME_MAX_RUNS_PER_AGENT:-10}" -n "runner@%h"
spawn beat "$BIN/celery" -A agentnexus beat -l info \
    --schedule "${TMPDIR:-/tmp}/agentnexus-celerybeat-schedule"
spawn web "$BIN/uvicorn" agentnexus.asgi:application --host "$HOST" --port "$PORT"

for ((i = 0; i < 600; i++)); do # up to 60 s
    healthy && break
    check_children
    sleep 0.1
done
if ! healthy; then
    say "$URL/healthz did not answer within 60 s"
    exit 1
fi

printf '\n  AgentNexus is running on %s — demo user demo@agentnexus.local / developer dev@agentnexus.local (passwords printed by seed_demo)\n  Press Ctrl-C to stop.\n\n' "$URL"

# --- wait until any child exits, then stop the rest (EXIT trap) --------------------------------------
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
for i in "${!PIDS[@]}"; do
    alive "${PIDS[$i]}" || say "${NAMES[$i]} exited (status $status); stopping the others"
done
exit "$((status == 0 ? 1 : status))"
