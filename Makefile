# Two commands on a fresh machine: `make run` (demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 4
PYTEST_ARGS ?=
# With HOST=0.0.0.0 the QR codes point at this machine's LAN address, so a phone
# on the same network can scan a poster.
LAN_IP := $(shell hostname -I 2>/dev/null | awk '{print $$1}')
QR_HOST := $(if $(filter 0.0.0.0,$(HOST)),$(or $(LAN_IP),127.0.0.1),$(HOST))
LOCAL_SECRET ?= .local-secret
DEMO_RESPONSES ?= 500
comma := ,

.PHONY: run test serve lint format migrate demo clean screenshots bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is required ($(PYTHON) is older)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime-installed

## run: install, migrate, load the demo into an empty database, serve on http://$(HOST):$(PORT)/
# As a server would, with DEBUG off: the product's own error pages, static files by
# WhiteNoise (collected first), a secret generated once into .local-secret (git-ignored).
# Plain HTTP on this machine or the LAN, so the cookies are not marked Secure.
# `make run DEBUG=1` gives Django's debug pages instead.
run: export DEBUG ?= 0
run: export PUBLIC_BASE_URL ?= http://$(QR_HOST):$(PORT)
run: export ALLOWED_HOSTS ?= 127.0.0.1,localhost,[::1]$(if $(LAN_IP),$(comma)$(LAN_IP))
run: export SESSION_COOKIE_SECURE ?= 0
run: export CSRF_COOKIE_SECURE ?= 0
run: export SECURE_HSTS_SECONDS ?= 0
run: export EMAIL_BACKEND ?= django.core.mail.backends.console.EmailBackend
run: $(VENV)/.runtime-installed $(LOCAL_SECRET)
	@export SECRET_KEY="$${SECRET_KEY:-$$(cat $(LOCAL_SECRET))}" \
	&& set -x \
	&& $(BIN)/python manage.py migrate --noinput \
	&& $(BIN)/python manage.py collectstatic --noinput --verbosity 0 \
	&& $(BIN)/python manage.py seed_demo --if-empty --responses $(DEMO_RESPONSES) --yes \
	&& { set +x; } 2>/dev/null \
	&& echo "" \
	&& echo "Open http://$(QR_HOST):$(PORT)/  (log in at http://$(QR_HOST):$(PORT)/accounts/login/)" \
	&& echo "" \
	&& exec $(BIN)/python manage.py runserver $(HOST):$(PORT)

# A random secret for `make run`, made once and kept out of git (.gitignore).
$(LOCAL_SECRET):
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

## test: the whole suite with pytest; SQLite by default, PostgreSQL when DATABASE_URL=postgres://… is set
test: export SECRET_KEY ?= test-only-secret-key-not-for-any-server
test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## screenshots: the respondent pages on a phone, from the browser tests, into docs/screenshots/
screenshots: export SECRET_KEY ?= test-only-secret-key-not-for-any-server
screenshots: $(VENV)/.dev-installed
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q \
		tests/questionnaires/test_respond_browser.py -k WithJavaScript

## bench: the benchmarks of bench/, one table (quick, under 5 minutes); FULL=1 for the issue's sizes and docs/benchmarks.md
# PostgreSQL and Redis on loopback are started as .ci/run starts them; wrk is
# installed when missing. BENCH_ARGS passes more, e.g. BENCH_ARGS="--only http --write".
FULL ?=
BENCH_ARGS ?=
bench: $(VENV)/.dev-installed
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
	  echo "PostgreSQL is down; starting it"; \
	  pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n 1)" main start || true; \
	  for _ in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done; \
	fi; \
	pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null \
	  || { echo "PostgreSQL at 127.0.0.1:5432 cannot be reached" >&2; exit 1; }
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "Redis is down; starting it"; \
	  mkdir -p /var/lib/redis /var/log/redis; \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
	    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; \
	  for _ in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; \
	fi; \
	redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
	  || { echo "Redis at 127.0.0.1:6379 cannot be reached" >&2; exit 1; }
	@command -v wrk >/dev/null || { \
	  echo "wrk is missing; installing it"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q wrk; }
	$(BIN)/python -m bench $(if $(filter 1 yes true,$(FULL)),--full) $(BENCH_ARGS)

## serve: production serving with gunicorn (needs SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, …)
serve: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn survey_service.wsgi:application --workers $(WORKERS) --bind $(HOST):$(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
