#!/usr/bin/env bash
# `make run`: the real site (gunicorn, DEBUG off) and the background worker that sends its emails,
# with the clinic's starting content.
# Uses DATABASE_URL when set, otherwise an embedded PostgreSQL under var/. Ctrl-C stops all it started.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var

export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  # A key of this machine's own, kept between runs so sessions survive a restart.
  [ -s var/secret_key ] || (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key)
  DJANGO_SECRET_KEY="$(cat var/secret_key)"
  export DJANGO_SECRET_KEY
fi
PORT="${PORT:-8000}"
# The quick start signs in with a password only; production requires a code from an
# authenticator app as well (enrol with `manage.py otp_enroll USERNAME`). Only when unset.
two_factor_off_warning=""
if [ -z "${CLINIC_ADMIN_2FA:-}" ]; then
  export CLINIC_ADMIN_2FA=off
  two_factor_off_warning="WARNING: two-factor login for the admin is OFF for this quick start. Before real use, enrol staff with 'manage.py otp_enroll USERNAME' and set CLINIC_ADMIN_2FA=on."
  echo "$two_factor_off_warning" >&2
fi

started_embedded=0
if [ -z "${DATABASE_URL:-}" ]; then
  "$PY" -m clinic.embedded_db start
  started_embedded=1
fi

pids=()
cleanup() {
  trap - INT TERM HUP EXIT
  # One signal each: on it, the worker finishes the email it is sending, then exits.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$started_embedded" = 1 ]; then "$PY" -m clinic.embedded_db stop || true; fi
}
trap cleanup INT TERM HUP EXIT

# Also makes the cache tables (clinic migration 0006) for the shared cache and the rate counters.
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py compilemessages --ignore=.venv --ignore=node_modules -v0
"$PY" manage.py ensure_admin
# Emails whose task was lost (a crash, a worker killed mid-send) are queued again; sent ones are not.
"$PY" manage.py messages_requeue
"$PY" manage.py requests_expire
# The daily housekeeping a production timer runs (deploy/systemd/clinic-daily.service), once at start.
"$PY" manage.py messages_prune

"$PY" -m gunicorn -c deploy/gunicorn.conf.py clinic.wsgi --bind "127.0.0.1:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --forwarded-allow-ips="${FORWARDED_ALLOW_IPS:-127.0.0.1}" &
pids+=("$!")

# The worker that sends queued emails (and retries them) from the task rows in PostgreSQL.
# In its own process group, so Ctrl-C reaches it once, through cleanup: a second signal
# would cut short an email it is handing to the mail server.
setsid "$PY" manage.py db_worker --no-reload --no-startup-delay &
pids+=("$!")

echo
echo "The clinic site is at http://127.0.0.1:$PORT/  (admin: http://127.0.0.1:$PORT/admin/)"
if [ -n "$two_factor_off_warning" ]; then echo "$two_factor_off_warning" >&2; fi
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}"
