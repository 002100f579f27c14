# Two commands: `make run` sets everything up and serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run install migrate demo serve services serve-services test test-faults lint browser bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch first: otherwise sentence-transformers pulls a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# The demo shows the product's 403/404/500 pages: DEBUG_PAGES=false turns Django's DEBUG off while
# development mode stays on (config/settings.py), and --insecure serves the static files that
# runserver serves by itself only while DEBUG is on. `make run DEBUG_PAGES=true` for tracebacks.
run: DEBUG_PAGES ?= false
run: demo
	@echo ""
	@echo "Demo logins (password: foresight-demo):"
	@echo "  convener@demo.test  technologist@demo.test  employer@demo.test  educator@demo.test  observer@demo.test"
	@echo "Serving http://$(HOST):$(PORT)  (HTTP and websockets) with a Celery worker beside it; Ctrl-C stops both"
	DEBUG_PAGES=$(DEBUG_PAGES) HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.run start

serve: install
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.run start

# Services mode: one command once DATABASE_URL (PostgreSQL) and REDIS_URL are set. It migrates,
# collects the static files (compressed, under cache-busted names, served by WhiteNoise) and starts
# Procfile.services with honcho: two uvicorn servers on PORT and PORT2, a Celery worker and beat.
# Ctrl-C stops all four. The Dockerfile runs `serve-services`: the same steps without the install.
PORT2 ?= 8001
services: install
	@$(MAKE) --no-print-directory serve-services

serve-services: DEBUG_PAGES ?= false
serve-services:
	@test -n "$$DATABASE_URL" || (echo "Set DATABASE_URL (postgres://...) first: see README, Services mode" >&2; exit 2)
	@test -n "$$REDIS_URL" || (echo "Set REDIS_URL (redis://...) first: see README, Services mode" >&2; exit 2)
	$(PY) manage.py migrate --noinput
	STATIC_MANIFEST=true $(PY) manage.py collectstatic --noinput -v 0
	@echo "Serving http://$(HOST):$(PORT) and http://$(HOST):$(PORT2) with a Celery worker and beat; Ctrl-C stops all"
	DEBUG_PAGES=$(DEBUG_PAGES) STATIC_MANIFEST=true LOG_FORMAT=$${LOG_FORMAT:-json} LOG_LEVEL=$${LOG_LEVEL:-INFO} \
	  HOST=$(HOST) WEB1_PORT=$(PORT) WEB2_PORT=$(PORT2) $(VENV)/bin/honcho -f Procfile.services start

# Debian's Chromium drives the browser tests; installed once if it is missing (never `playwright install`).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium chromium-driver)

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-faults: install
	$(PY) -m pytest -m faults tests/faults -v -s $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) bench/delphi_aggregate.py
	$(PY) bench/matching.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles
