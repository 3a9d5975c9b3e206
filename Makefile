# Every target creates .venv and installs what it needs, so each works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit check clean bench bench-scale soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/proofqueue demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# The whole suite, on SQLite and on PostgreSQL (a throwaway server on loopback when one can be started).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	scripts/with-postgres $(BIN)/pytest -q --durations=25

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Benchmarks, beside raw SQLite, plain httpx and DBOS Transact (installed here, into .venv
# only); prints the table and writes bench/last-run.md. Not part of `make test`, never gates CI.
# Figure 7 (worker processes) runs on a throwaway PostgreSQL server when one can be started.
# BENCH_ARGS=--quick for a smaller run (writes no file); BENCH_ARGS='--only 7,8,9' for some.
bench: $(STAMP)
	$(BIN)/pip install --quiet 'dbos>=3,<4'
	scripts/with-postgres $(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.tlog
	$(BIN)/python -m bench.prepare

# proofqueue at a million intents (a 1.4M-event log written in bulk through the real
# recorder): replay, verify --all, the breaker's first load, health/counts/list, durable
# and concurrent submits, each beside its reference; writes bench/last-scale.md.
# BENCH_SCALE_ARGS='--intents 20000' for a quick look (writes no file).
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale $(BENCH_SCALE_ARGS)

# The fault-injection run at soak size (5,000 intents, 20 kills at least), on SQLite and on
# PostgreSQL (a throwaway server when one can be started); prints one line of figures per store.
soak: $(STAMP)
	PROOFQUEUE_SOAK=1 scripts/with-postgres $(BIN)/pytest -s -p no:cacheprovider tests/faults/test_chaos.py
