# AgentNexus developer entry points. The logic lives in scripts/; these targets only wire it up.
#
#   make run            install what is needed and run the whole app on http://127.0.0.1:8000
#   make test           lint + migrations check + pytest against throwaway PostgreSQL/Redis
#                       (extra pytest arguments: make test PYTEST_ARGS="-k catalog -x")
#   make services-up    start (or reuse) the test PostgreSQL/Redis and print their URLs;
#                       eval "$(make -s services-up)" exports them into your shell
#   make services-down  stop every test PostgreSQL/Redis recorded in $TMPDIR
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# CI (set by CI systems, or `make test CI=1`) reaches the scripts and pytest unchanged; left unset
# when not given (a bare `export CI` would set it to an empty string).
ifneq ($(origin CI),undefined)
export CI
endif

VENV_BIN := .venv/bin
TEST_SETTINGS := agentnexus.settings.test
PYTEST_ARGS ?=

.PHONY: help run test lint format schema images bench bench-gas services-up services-down clean venv

help:
	@echo "targets: run test lint format schema images bench bench-gas services-up services-down clean"

# A virtualenv only (no system packages): what lint/format/schema/bench need.
venv:
	@scripts/bootstrap.sh run

run:
	@scripts/bootstrap.sh run
	@scripts/run.sh

test:
	@scripts/test.sh $(PYTEST_ARGS)

lint: venv
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .

format: venv
	$(VENV_BIN)/ruff check --fix .
	$(VENV_BIN)/ruff format .

schema: venv
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(VENV_BIN)/python manage.py spectacular \
		--file docs/openapi.yaml --validate --fail-on-warn

# Catalog latency needs PostgreSQL + Redis (DATABASE_URL / REDIS_URL, see bench/README.md).
bench: venv
	$(VENV_BIN)/python bench/catalog_latency.py

# The agent base images and the catalog agents' test images (Docker engine; started when root).
images:
	@scripts/docker_images.sh

# Gas per escrow operation on a throwaway anvil.
bench-gas: venv
	$(VENV_BIN)/python bench/gas.py

services-up:
	@scripts/services.sh start

services-down:
	@scripts/services.sh stop

# Generated files only; keeps .venv (delete it by hand to rebuild from scratch) and the databases.
clean:
	find . -path ./.venv -prune -o -path ./contracts/node_modules -prune -o \
		-type d \( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache -o -name .hypothesis \) \
		-prune -exec rm -rf {} +
	rm -rf staticfiles .coverage htmlcov "$${TMPDIR:-/tmp}"/agentnexus-celerybeat-schedule*
