# The two commands: `make run` serves the real site, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Management commands outside `make run` reuse the quick start's key when none is set.
MANAGE_ENV := DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key 2>/dev/null || echo quick-start-only)}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-localhost}"

.PHONY: run serve test lint install messages clean-db backup restore bench bench-ratelimit bench-pagecache audit

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The Nu Html Checker (vnu-jar) the HTML test runs, from package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

install: $(VENV)/.installed node_modules/.installed messages

# The French catalog compiled from locale/fr/LC_MESSAGES/django.po (the .mo files are not committed).
messages: $(VENV)/.installed
	$(MANAGE_ENV) $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

run: install
	scripts/run.sh

# Production settings from the environment only, web and task worker in the foreground, e.g.
# `set -a; . /etc/clinic/clinic.env; set +a; make serve`. Under systemd the units in
# deploy/systemd/ run the same two commands. Migrations and collectstatic stay explicit steps
# (docs/deploy.md). The worker has its own session, so Ctrl-C reaches it once, through the trap.
serve: install
	@setsid $(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(PY) -m gunicorn -c deploy/gunicorn.conf.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-localhost} \
		$(PY) manage.py check
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-localhost} \
		$(PY) manage.py makemigrations --check --dry-run
	# Tests that start real gunicorn processes serve hashed static files from the manifest.
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key} DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-localhost} \
		$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m pytest

# Stops the embedded PostgreSQL (used when DATABASE_URL is unset) and deletes its data.
clean-db:
	$(PY) -m clinic.embedded_db stop
	rm -rf var/pgdata

# Back up the database (DATABASE_URL, or the embedded one) to var/backups/, pg_dump custom format.
backup: install
	$(MANAGE_ENV) $(PY) manage.py db_backup

# Restore a backup into an EMPTY database: make restore FILE=var/backups/clinic-....dump [DB=other_name]
restore: install
	@test -n "$(FILE)" || (echo "usage: make restore FILE=path/to/backup.dump [DB=database_name]" && exit 2)
	$(MANAGE_ENV) $(PY) manage.py db_restore "$(FILE)" $(if $(DB),--database-name "$(DB)")

# The site under load against its own ceiling (docs/benchmarks.md): a scratch database on the
# server of DATABASE_URL (or the embedded one), dropped afterwards; wrk from Debian's packages.
bench: install
	$(PY) bench/run.py

# clinic/ratelimit.py against django-ratelimit on the same stores: speed, and exactness under a race.
bench-ratelimit: install
	$(PY) bench/ratelimit_compare.py

# clinic/cache.py against Django's cache_page for the home page, in one process.
bench-pagecache: install
	$(PY) bench/pagecache_compare.py

# Lighthouse (mobile) on home, FAQ and /book/, against gunicorn on a scratch database.
audit: install
	$(PY) bench/audit.py
