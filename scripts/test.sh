#!/usr/bin/env bash
# `make test` / `.ci/run`: prepare the machine, start throwaway PostgreSQL + Redis (unless
# DATABASE_URL / REDIS_URL are set), lint, check migrations, run pytest. Extra arguments go to
# pytest. Services started by this run are stopped at the end, also on failure or Ctrl-C; servers
# it merely reused (e.g. from `make services-up`) are left running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"

step() { printf '\n==> %s\n' "$*" >&2; }

step "bootstrap"
scripts/bootstrap.sh test

step "services"
STARTED_BY_US=""
# shellcheck disable=SC2317 # called through the EXIT trap
stop_services() {
    local rc=$?
    if [[ -n "$STARTED_BY_US" ]]; then
        step "stopping test services"
        # shellcheck disable=SC2086 # a space-separated list of state directories
        scripts/services.sh stop $STARTED_BY_US || true
    fi
    exit "$rc"
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exports="$(scripts/services.sh start)"
eval "$exports"
STARTED_BY_US="${AGENTNEXUS_SERVICES_STARTED:-}"
unset AGENTNEXUS_SERVICES_STARTED
export DATABASE_URL REDIS_URL

step "docker engine and agent images"
scripts/docker_images.sh

step "ruff check"
"$BIN/ruff" check .
step "ruff format --check"
"$BIN/ruff" format --check .
step "makemigrations --check"
DJANGO_SETTINGS_MODULE=agentnexus.settings.test "$BIN/python" manage.py makemigrations --check --dry-run

step "pytest"
set +e
"$BIN/pytest" "$@"
status=$?
set -e
exit "$status"
