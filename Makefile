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
# Without DATABASE_URL / CELERY_BROKER_URL: SQLite and a broker in folders under var/.
run: export DEBUG ?= 1
run: export PORT ?= 8000
run: export PROMETHEUS_MULTIPROC_DIR ?= $(abspath var/metrics)
run: $(VENV)/.run-installed
	mkdir -p var/broker var/broker-control
	test -f var/local.env || printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')" > var/local.env
	rm -rf $(PROMETHEUS_MULTIPROC_DIR) && mkdir -p $(PROMETHEUS_MULTIPROC_DIR)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "  Flowdesk runs at   http://127.0.0.1:$(PORT)/"
	@echo "  admin              http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs           http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  health, metrics    http://127.0.0.1:$(PORT)/health  /metrics"
	@echo "  log in as admin/admin, manager/manager, hr/hr, lead/lead or clerk/clerk; Ctrl-C stops everything"
	@echo ""
	honcho -f config/Procfile.dev -d . start

# The suite runs against PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379 with real workers.
test: $(VENV)/.dev-installed
	rm -rf test-output/prometheus
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.dev-installed
	$(PY) bench/engine_throughput.py

clean:
	rm -rf var test-output
