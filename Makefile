# One command sets up and runs the demo, one sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench soak setup clean

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

# ruff (lint + format check) and mypy; CI runs this before the tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_platforms.py
	$(BIN)/python bench/api_calls.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/complaints_pipeline.py
	$(BIN)/python bench/latency.py

soak: setup
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) *.egg-info
