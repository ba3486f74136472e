# `make demo` and `make test` each build the virtual environment from pinned versions first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install bench chaos clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt setuptools wheel
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-build-isolation -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shopbridge demo

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src/shopbridge

# Lint first: a type or style error fails the run before the slower suite starts.
# The suite mostly waits on emulators, Temporal and subprocesses, so test processes overlap that waiting;
# worksteal evens out the few minute-long tests. TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= 2
test: $(STAMP) lint
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

bench: $(STAMP)
	$(BIN)/python bench/order_transfer.py

# Faults on both sides, workers killed, Temporal restarted; one JSON line, non-zero on loss or duplicate.
# CHAOS_ARGS="--orders 10000" for a bigger run.
chaos: $(STAMP)
	scripts/ensure-postgres.sh
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
