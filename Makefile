# make install   - a virtual environment in .venv with callqa and its test tools
# make test      - lint (ruff), types (mypy, strict), the import layers (lint-imports), then the
#                  whole test suite (real Whisper models, real files)
# make bench     - the benchmarks: transcription (both engines), analysis speed, worker throughput
PYTHON ?= python3
VENV := .venv

install:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'

test:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/python -m pytest

# Everything but what hears audio, drives a browser or starts workers: a contributor's quick loop.
test-fast:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -m "not slow" --durations=5

bench:
	$(VENV)/bin/python bench/transcription.py
	$(VENV)/bin/python bench/analysis.py
	$(VENV)/bin/python bench/batch.py

.PHONY: install test test-fast bench
