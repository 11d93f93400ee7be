# Buildout Tracker. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WEEKS  ?= 2026-W37:2026-W48
WEEK   ?= 2026-W48
SCALE  ?= small
SEED   ?= 7
DEFECTS ?= 0
FORCE  ?=
V      ?=
BUILDOUT := $(PY) -m buildout_tracker.cli
FORCE_FLAG := $(if $(FORCE),--force)

export PYTHONPATH :=
export UV_COMPILE_BYTECODE := 1

.PHONY: help install run run-week test lint format up backfill down lake-up lake-down lake-status sql generate supersede report withdraw bench chaos clean compose-env compose-up compose-down

help: ## List the targets, one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the locked dependencies (installs uv if absent)

$(STAMP): requirements.lock pyproject.toml
	@bash scripts/bootstrap.sh $(VENV)
	@touch $(STAMP)

run: install ## The main job: local lake, default history, the weekly cycle over it, a summary (V=1: every feed)
	@$(BUILDOUT) run --weeks $(WEEKS) --scale $(SCALE) --seed $(SEED) --defects $(DEFECTS) $(FORCE_FLAG) $(if $(V),-v)

run-week: install ## Run one week's DAGs (WEEK=2026-W48) against whatever is in the landing bucket (FORCE=1: a week not closed)
	@$(BUILDOUT) run-week --week $(WEEK) $(FORCE_FLAG)

test: install ## The whole test suite (what .ci/run calls)
	@bash scripts/system-deps.sh
	@$(VENV)/bin/pytest

lint: install ## ruff (with Airflow's AIR rules) and mypy on the package
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

format: install ## Format the code with ruff
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

up: install ## Local Airflow (UI on http://127.0.0.1:8080, or the free port it names) plus the lake
	@$(BUILDOUT) up

backfill: install ## Backfill the ingest DAGs of `make up`'s Airflow over WEEKS=2026-W45:2026-W46
	@$(BUILDOUT) backfill --weeks $(WEEKS)

down: ## Stop everything `make up` and `make lake-up` started
	@if [ -x $(PY) ]; then $(BUILDOUT) down; fi

lake-up: install ## Start the local S3 lake (writes .env on first use)
	@$(PY) -m buildout_tracker.devtools.lake_server up

lake-down: ## Stop the local S3 lake
	@if [ -x $(PY) ]; then $(PY) -m buildout_tracker.devtools.lake_server down; fi

lake-status: install ## Is the lake running, where, which buckets
	@$(PY) -m buildout_tracker.devtools.lake_server status

sql: install ## A DuckDB prompt on the lake's tables (Q="SELECT ..." runs one query)
	@$(PY) -m buildout_tracker.devtools.sql $(if $(Q),"$(Q)")

generate: install ## Generate deliveries: WEEKS=2026-W37:2026-W48 SCALE=small SEED=7 DEFECTS=0
	@$(BUILDOUT) generate --weeks $(WEEKS) --scale $(SCALE) --seed $(SEED) --defects $(DEFECTS)

supersede: install ## Declare a landing FILE=<feed>/<date>/<name> replaced by a correction (REASON="...")
	@$(BUILDOUT) supersede --file "$(FILE)" --reason "$(REASON)"

report: install ## Build a week's program report (WEEK=2026-W48), saved as var/reports/program-<week>.html
	@$(BUILDOUT) report --week $(WEEK)

withdraw: install ## Take a published week back: WEEK=2026-W48 REASON="..." (a record stays in the lake)
	@$(BUILDOUT) withdraw --week "$(WEEK)" --reason "$(REASON)"

bench: install ## Benchmarks and their targets (WHAT=parse, ingest, cycle, same-delivery, xlarge, report or ui; default all; WHAT=profile: a CPU profile of weekly cycles; WHAT=floors: the fixed costs of a large week, each alone)
	@$(BUILDOUT) bench $(WHAT)

chaos: install ## Kill, fault and overlap runs against a proxied local lake (ARGS="--points 20 --only crash"); docs/faults.md
	@$(PY) -m buildout_tracker.devtools.chaos $(ARGS)

compose-env: install ## Write .env.compose (random secrets) for the compose stack; AWS: docs/production.md
	@bash scripts/compose.sh env

compose-up: install ## Build and start the production stack (CeleryExecutor; UI on http://127.0.0.1:8080)
	@bash scripts/compose.sh up

compose-down: ## Stop the compose stack (scripts/compose.sh down -v also deletes its volumes)
	@bash scripts/compose.sh down

clean: down ## Remove local state (lake files, Airflow home, logs); keeps .env and .venv
	rm -rf var
