#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker compose config -q` (Compose v2
# plugin) or `docker-compose config -q` (Debian's docker-compose package), with a dummy
# DJANGO_SECRET_KEY unless one is set. Without either, falls back to a structural check in Python
# and says so. Exit status 0 = valid.
#
#   scripts/check_compose.sh [COMPOSE_FILE]        (default: docker-compose.yml in the repo root)
#   COMPOSE_VALIDATOR=v2|v1|python forces one validator (fails if it is not installed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FILE="${1:-docker-compose.yml}"
[[ -f "$FILE" ]] || {
    echo "check_compose: $FILE not found" >&2
    exit 1
}

export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY-dummy-compose-check-key-0123456789abcdefghijklmnopqrstuvwxyz}"
# Keep a local .env (an empty --env-file replaces it) or the caller's COMPOSE_* settings from
# changing what is checked.
unset COMPOSE_FILE COMPOSE_PROFILES
EMPTY_ENV="$(mktemp)"
trap 'rm -f "$EMPTY_ENV"' EXIT

validator="${COMPOSE_VALIDATOR:-}"
if [[ -z "$validator" ]]; then
    if docker compose version >/dev/null 2>&1; then
        validator=v2
    elif command -v docker-compose >/dev/null 2>&1; then
        validator=v1
    else
        validator=python
    fi
fi

case "$validator" in
v2)
    echo "check_compose: docker compose config ($FILE)" >&2
    docker compose --project-directory "$ROOT" --env-file "$EMPTY_ENV" -f "$FILE" config -q
    exit
    ;;
v1)
    echo "check_compose: docker-compose config ($FILE)" >&2
    docker-compose --project-directory "$ROOT" --env-file "$EMPTY_ENV" -f "$FILE" config -q
    exit
    ;;
python) ;;
*)
    echo "check_compose: unknown COMPOSE_VALIDATOR=$validator (v2, v1, python)" >&2
    exit 2
    ;;
esac

echo "check_compose: no Docker Compose used; structural check only ($FILE)" >&2
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || PY=python3
"$PY" - "$FILE" <<'PY'
"""Structural check of a compose file: the parts docker-compose.yml relies on."""

import os
import re
import sys

import yaml

path = sys.argv[1]
errors = []
with open(path, encoding="utf-8") as fh:
    text = fh.read()
doc = yaml.safe_load(text)

# ${VAR:?message} must be satisfied, like Compose would require.
for match in re.finditer(r"\$\{(\w+):\?([^}]*)\}", text):
    if not os.environ.get(match.group(1)):
        errors.append(f"required variable {match.group(1)} is not set: {match.group(2)}")
for bad in re.findall(r"(?<!\$)\$\{[^}]*$", text, flags=re.M):
    errors.append(f"unterminated interpolation: {bad!r}")

services = doc.get("services") if isinstance(doc, dict) else None
if not isinstance(services, dict) or not services:
    errors.append("no services")
    services = {}
allowed_top = {"name", "services", "volumes", "networks", "configs", "secrets", "version"}
for key in doc or {}:
    if key not in allowed_top and not str(key).startswith("x-"):
        errors.append(f"unknown top-level key {key!r}")
volumes = set((doc or {}).get("volumes") or {})
for name, svc in services.items():
    if not isinstance(svc, dict):
        errors.append(f"{name}: not a mapping")
        continue
    if "image" not in svc and "build" not in svc:
        errors.append(f"{name}: needs image or build")
    deps = svc.get("depends_on") or {}
    for dep, spec in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
        if dep not in services:
            errors.append(f"{name}: depends_on unknown service {dep!r}")
        cond = (spec or {}).get("condition", "service_started")
        if cond not in {"service_started", "service_healthy", "service_completed_successfully"}:
            errors.append(f"{name}: bad depends_on condition {cond!r}")
        if cond == "service_healthy":
            hc = services.get(dep, {}).get("healthcheck")
            if not hc and "build" not in services.get(dep, {}):
                errors.append(f"{name}: {dep!r} has no healthcheck but is awaited as healthy")
    for port in svc.get("ports") or []:
        if not re.fullmatch(r"(\d+\.\d+\.\d+\.\d+:)?\d+(:\d+)?(/(tcp|udp))?", str(port)):
            errors.append(f"{name}: bad port {port!r}")
    for vol in svc.get("volumes") or []:
        src = str(vol).split(":", 1)[0]
        if not src.startswith((".", "/", "~")) and src not in volumes:
            errors.append(f"{name}: undeclared volume {src!r}")
    hc = svc.get("healthcheck")
    if hc and not hc.get("disable") and not hc.get("test"):
        errors.append(f"{name}: healthcheck without test")

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
PY
