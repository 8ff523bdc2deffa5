# The two commands of the README: `make run` and `make test`. Both build .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility checks, from npm (tests/browser/package-lock.json).
AXE_STAMP := tests/browser/node_modules/.installed

.PHONY: run test install axe lint format migrations-check lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else "Python 3.13 is required (found %s); set PYTHON=/path/to/python3.13" % sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_health_story
	$(PY) scripts/devserver.py

test: $(STAMP) axe
	$(PY) -m pytest $(PYTEST_ARGS)

$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $(AXE_STAMP)

# Without npm the browser tests run without accessibility checks (they say so); CI fails instead.
axe:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(AXE_STAMP); \
	else echo "npm not found: the browser tests will skip their axe-core accessibility checks"; fi

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

# Re-pin requirements.lock from pyproject.toml's ranges in a throwaway venv.
lock:
	rm -rf var/lockenv && $(PYTHON) -m venv var/lockenv
	var/lockenv/bin/pip install --quiet --upgrade pip
	var/lockenv/bin/pip install --quiet '.[dev]'
	var/lockenv/bin/pip freeze --exclude expenses-portal > requirements.lock
	rm -rf var/lockenv build *.egg-info

clean:
	rm -rf $(VENV) var
