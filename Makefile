# `make dev` runs the whole system locally; `make test` runs lint and every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# checkov lives in its own venv: its bc-python-hcl2 overwrites the python-hcl2 the infra tests use.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

.PHONY: eval-ai dev test test-fast test-unit test-emulator lint format bench bench-page bench-sync bench-ai bench-reply bench-reminders bench-sessions sync clean system-deps \
	infra-manifest package-functions

# Debian packages the stack needs: libmagic1 (neonize imports python-magic) and Chromium for the browser tests.
# Installed on first run when missing (as root, or through sudo). Java 17+ and Node.js 20+ must be on the machine.
system-deps:
	@command -v java >/dev/null || { echo "java (17+) is required for the Firestore emulator"; exit 1; }
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is required to build the onboarding page"; exit 1; }
	@missing=""; \
	ldconfig -p | grep -q 'libmagic\.so\.1' || missing="$$missing libmagic1"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt -e .
	touch $(STAMP)

$(CHECKOV_STAMP): infra/checkov-constraints.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q -c infra/checkov-constraints.txt checkov
	touch $(CHECKOV_STAMP)

# HOSTS=2: two session hosts sharing the salons (new links go to the emptier one; stop one, the other adopts).
HOSTS ?= 1
dev: system-deps $(STAMP)
	$(PY) -m devstack.run --hosts $(HOSTS)

# Parallel workers: the suite waits (quiet windows, stacks, a browser) more than it computes, so twice the cores,
# at most 8. Each worker has its own ports and Firestore project (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(8, 2 * (os.cpu_count() or 1)))')
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadgroup --durations=20

test: system-deps $(STAMP) $(CHECKOV_STAMP) lint
	$(PY) -m devstack.web_build
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The stages of `make test` on their own (cloudbuild.yaml runs them as separate steps).
# The inner loop: lint, unit, infra and the integration tests that stand up no salon, host or browser (~2 min).
test-fast: $(STAMP) $(CHECKOV_STAMP) lint
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not slow" tests/unit tests/infra tests/integration

test-unit: $(STAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) tests/unit tests/infra

test-emulator: system-deps $(STAMP)
	$(PY) -m devstack.web_build
	$(PY) -m pytest $(PYTEST_PARALLEL) tests/integration tests/browser tests/dialogues tests/bench

# After adding a function, queue, scheduled job or secret setting: rewrite infra/app.json, which Terraform reads.
infra-manifest: $(STAMP)
	$(PY) infra/manifest.py

# The functions' source archive for a deploy (cloudbuild.yaml uploads it).
package-functions: $(STAMP)
	$(PY) infra/package_functions.py --out build/functions.zip

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.webhook_load

bench-page: system-deps $(STAMP)
	$(PY) -m bench.page_latency

bench-sync: $(STAMP)
	$(PY) -m bench.sync_load

bench-reminders: $(STAMP)
	$(PY) -m bench.reminders_load

bench-ai: $(STAMP)
	$(PY) -m bench.ai_turns

# The dialogue sets against the real Gemini (GEMINI_API_KEY; GEMINI_MODEL to try another model), as production runs
# it: per set and class the share passed, model calls and latency per turn (test-output/dialogue-report.json).
eval-ai: system-deps $(STAMP)
	@test -n "$$GEMINI_API_KEY" || { echo "make eval-ai asks the real Gemini: set GEMINI_API_KEY"; exit 2; }
	AIADMIN_EVAL_LIVE=1 $(PY) -m pytest tests/dialogues/test_dialogue_set.py -q

# One session host with 200 simulated salons; then 200 real neonize clients started at once in one process.
bench-sessions: $(STAMP)
	$(PY) -m bench.session_host_load --salons 200
	$(PY) -m bench.neonize_many --clients 200
	$(PY) -m bench.neonize_many --clients 200 --hold
	$(PY) -m bench.send_pacing

# With nothing else on ports 191xx: a customer's wait from message to reply on the local stack.
bench-reply: system-deps $(STAMP)
	$(PY) -m bench.reply_time

# With `make dev` running: sync every module of one salon now. `make sync SALON=962302`
SALON ?= 962302
sync: $(STAMP)
	$(PY) -m devstack.sync_now --salon $(SALON)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .devstack test-output .pytest_cache .ruff_cache web/node_modules web/public/assets web/public/onboarding.html
