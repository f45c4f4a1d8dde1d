# `make dev` runs the whole system locally; `make test` runs lint and every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: dev test lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@command -v java >/dev/null || { echo "java (17+) is required for the Firestore emulator"; exit 1; }
	@ldconfig -p | grep -q 'libmagic\.so\.1' || { echo "libmagic1 is required (neonize): apt-get install libmagic1"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt -e .
	touch $(STAMP)

dev: $(STAMP)
	$(PY) -m devstack.run

test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.webhook_load

clean:
	rm -rf $(VENV) .devstack test-output .pytest_cache .ruff_cache
