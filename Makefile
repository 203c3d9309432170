# Flowdesk: `make run` (development, zero setup) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test lint bench clean

$(VENV)/.run-installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Web server, worker and beat in the foreground; Ctrl-C stops all three.
run: $(VENV)/.run-installed
	mkdir -p var/broker var/broker-control
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	@echo ""
	@echo "  Flowdesk is starting at http://127.0.0.1:$${PORT:-8000}/  (admin: /admin/)"
	@echo ""
	DEBUG=$${DEBUG:-1} PORT=$${PORT:-8000} honcho -f config/Procfile.dev -d . start

# The suite runs against PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379 with real workers.
test: $(VENV)/.dev-installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.dev-installed
	$(PY) bench/engine_throughput.py

clean:
	rm -rf var test-output
