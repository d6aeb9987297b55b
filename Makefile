# One command sets up and runs the demo, one sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench soak setup clean

$(BIN)/comment-guard: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/comment-guard

demo: setup
	$(BIN)/comment-guard demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_platforms.py
	$(BIN)/python bench/api_calls.py
	$(BIN)/python bench/classify.py

soak: setup
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) *.egg-info
