# The two commands: `make run` serves the real site, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint install clean-db

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	scripts/run.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-localhost} \
		$(PY) manage.py check
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-localhost} \
		$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

# Stops the embedded PostgreSQL (used when DATABASE_URL is unset) and deletes its data.
clean-db:
	$(PY) -m clinic.embedded_db stop
	rm -rf var/pgdata
