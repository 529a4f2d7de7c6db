# Two commands: `make run` and `make test`. Everything lives under data/ (RECO_HOME).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export RECO_HOME ?= $(CURDIR)/data
export BENTOML_HOME ?= $(RECO_HOME)/bentoml
export DAGSTER_HOME ?= $(RECO_HOME)/dagster
export GX_ANALYTICS_ENABLED := false
export BENTOML_DO_NOT_TRACK := true
export DAGSTER_DISABLE_TELEMETRY := true
export FEAST_USAGE := False
SERVICE_PORT ?= 3000
UI_PORT ?= 3070
# The Dagster instance profile: dagster.yaml (SQLite under DAGSTER_HOME) or dagster.prod.yaml (PostgreSQL)
DAGSTER_CONFIG ?= dagster.yaml

.PHONY: run build serve sample test lint ui bench clean FORCE_COPY

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: $(DAGSTER_CONFIG) FORCE_COPY
	mkdir -p $(DAGSTER_HOME) && cp $(DAGSTER_CONFIG) $@

FORCE_COPY:

## build: materialize every asset (skipped when the bundle is fresh; FORCE=1 rebuilds)
build: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m orchestration.materialize $(if $(FORCE),--force,)

## run: install, build the demo world and every asset, then bring up the platform: the Dagster
## daemon (schedules, sensors, alerts, freshness), the Dagster UI on :$(UI_PORT) and the service
run: build
	$(BIN)/python -m orchestration.platform --service-port $(SERVICE_PORT) --ui-port $(UI_PORT)

serve: $(BIN)/.installed
	$(BIN)/bentoml serve bento.service:Recommender --port $(SERVICE_PORT)

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -p $(UI_PORT) -h 127.0.0.1

bench: $(BIN)/.installed
	$(BIN)/python -m bench.world_gen --size demo
	$(BIN)/python -m bench.train_speed
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.serving_latency

clean:
	rm -rf data
