# The README's two commands: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup setup-test run app ingest test test-fast lint eval bench clean

setup: $(STAMP)

# Idempotent: reinstalls only when pyproject.toml changes. torch is pinned to the CPU build
# on this machine's disk; installing it first keeps pip from choosing a CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Tests also need the llm extra (llama-cpp-python builds from source once; pip caches the wheel).
setup-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,llm]'
	touch $(TEST_STAMP)

# Exit status 1 from ingest means some files were skipped (reported); the index is still usable.
ingest: setup
	$(PY) -m ingest; s=$$?; [ $$s -le 1 ] || exit $$s

app: setup
	$(PY) app.py

run: ingest app

test: setup-test
	$(PY) -m pytest

test-fast: setup-test
	$(PY) -m pytest -m "not slow"

lint: setup-test
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# The gold questions through every configuration on a freshly ingested index; report in evals/results/
eval: setup
	$(PY) -m evals

# Latency of the shipped configuration on the app's own index (medians of one run, never gated)
bench: setup ingest
	$(PY) -m evals --config shipped --index existing --no-check

clean:
	rm -rf .data evals/results
