# drift_audit — the two Quick-start commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DRIFT_AUDIT_CONFIG ?= $(CURDIR)/drift_audit.yaml

.PHONY: install home demo backfill test lint ui bench check-java clean

check-java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java (11 or 17) is required by Spark and was not found on PATH."; \
	  echo "Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless"; \
	  echo "macOS: brew install openjdk@17"; exit 1; }
	@java -version 2>&1 | head -n 1 | grep -Eq '"(1[1-9]|2[0-9])[."]' || { \
	  echo "Spark 3.3 needs Java 11 or 17; found: $$(java -version 2>&1 | head -n 1)"; exit 1; }

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: check-java $(STAMP)

# The Dagster instance of the demo: SQLite under $(DAGSTER_HOME), with the repository's dagster.yaml
# (no telemetry). For Postgres, copy deploy/dagster.yaml there instead (docs/deploy.md).
home:
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: install home
	$(BIN)/drift-audit demo

# e.g. make backfill FROM=2026-10-19 TO=2026-10-21 [ARGS="--groups transactions --dry-run"]
backfill: install home
	$(BIN)/drift-audit backfill --from $(FROM) --to $(TO) $(ARGS)

test: install home
	$(BIN)/ruff check drift_audit drift_audit_tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check drift_audit drift_audit_tests bench
	$(BIN)/mypy

ui: install home
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[bench]'
	$(BIN)/python bench/bench_stats.py
	$(BIN)/python bench/bench_sampling.py

clean:
	rm -rf demo/data demo/out .dagster_home test-artifacts
