# The README's two commands: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup setup-test browser run app ingest test test-fast lint eval bench soak clean

setup: $(STAMP)

# Idempotent: reinstalls only when pyproject.toml changes. torch is pinned to the CPU build
# on this machine's disk; installing it first keeps pip from choosing a CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m assistant.onnx_embedding  # export the packaged MiniLM to ONNX (local, no download)
	touch $(STAMP)

# Tests also need the llm extra. llama-cpp-python builds from source (about 7 minutes) with a
# portable instruction set: a native build picks up AVX-512/AMX kernels that crash on some
# virtual CPUs, and pip's own wheel cache is keyed by version only, so it could hand back a
# wheel built with other flags on another CPU. We build it with pip's cache off into a wheel
# folder keyed by version and flags, and install only from there.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_AVX_VNNI=OFF
LLAMA_KEY := $(shell printf '%s %s' '$(LLAMA_VERSION)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEELS ?= $(HOME)/.cache/aln-assistant/llama-wheels/$(LLAMA_KEY)

setup-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 $(PY) -m pip wheel --quiet --no-cache-dir \
	    --no-deps --no-binary llama-cpp-python -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(PY) -m pip install --quiet --no-index --find-links $(LLAMA_WHEELS) --force-reinstall --no-deps \
	  llama-cpp-python==$(LLAMA_VERSION)
	$(PY) -m pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[dev,llm]'
	$(PY) -c "import llama_cpp; print('llama.cpp build:', llama_cpp.llama_print_system_info().decode())"
	touch $(TEST_STAMP)

# The browser tests drive Debian's Chromium: install it when missing and we are root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	      || echo "*** chromium could not be installed: the browser tests will be SKIPPED (listed at the end) ***"; \
	  else echo "*** chromium is missing and this is not root: run 'sudo apt-get install chromium' or the browser tests are SKIPPED ***"; fi; }

# Exit status 1 from ingest means some files were skipped (reported) and the index is still
# usable; 2 means ingest failed (the previous index is unchanged), and `make run` stops there.
ingest: setup
	$(PY) -m ingest; s=$$?; [ $$s -le 1 ] || exit $$s

app: setup
	$(PY) app.py

run: ingest app

test: setup-test browser
	$(PY) -m pytest

test-fast: setup-test
	$(PY) -m pytest -m "not slow"

lint: setup-test
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# The gold questions through every configuration on a freshly ingested index; report in evals/results/
eval: setup
	$(PY) -m evals

# Cold start, start-up, warm latency, memory and re-ingest at the real corpus and a 10x synthetic
# index, onnx against torch, and through a chroma run server (one run, ratios and medians, never gated)
bench: setup ingest
	$(PY) -m evals.bench --server

# Reliability figures (README "Reliability"): readers during rebuilds, store size over
# ten ingests, interrupted ingests, hostile input; the SOAK lines print the measurements.
soak: setup-test
	$(PY) -m pytest tests/test_reliability.py tests/test_ingest.py -v -s -k "reader or ten_ingests or interrupted or symlink or laughs or unclosed or normalise or jsonl or exit" 2>&1 | grep -E "SOAK|PASSED|FAILED|passed|failed"

clean:
	rm -rf .data evals/results
