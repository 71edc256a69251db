# Two commands, on a fresh machine with Python 3.11 and the package registries:
#   make run    the whole stack (embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set)
#   make test   ruff and the test suite, the same way
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test

$(VENV)/.installed: requirements.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m config.stack run

test: $(VENV)/.installed
	$(PY) -m config.stack test $(PYTEST_ARGS)
