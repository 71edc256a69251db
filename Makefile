# Two commands, on a fresh machine with Python 3.11 and the package registries:
#   make run    the whole stack (embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set)
#   make test   ruff and the test suite, the same way
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# says "still working" whenever a silent install step has printed nothing for 5 s
HEARTBEAT := $(PYTHON) config/heartbeat.py

.PHONY: run test start stop logs

$(VENV)/.installed: requirements.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@echo "[make] Installing the dependencies into $(VENV) (the first time: a minute or two)"
	test -x $(PY) || $(HEARTBEAT) "Creating $(VENV)" -- $(PYTHON) -m venv $(VENV)
	$(HEARTBEAT) "Upgrading pip" -- $(PY) -m pip install --quiet --upgrade pip
	$(HEARTBEAT) "Installing the dependencies" -- $(PY) -m pip install --progress-bar off -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m config.stack run

# The same stack in the background: its output in .run/stack.log (make logs), stopped by make stop.
start: $(VENV)/.installed
	@mkdir -p .run
	@nohup $(PY) -m config.stack run > .run/stack.log 2>&1 &
	@echo "[make] Starting the stack in the background: make logs follows it, make stop stops it"

stop:
	@$(PY) -m config.stack stop

logs:
	@tail -n 200 -F .run/stack.log

test: $(VENV)/.installed
	$(PY) -m config.stack test $(PYTEST_ARGS)
