"""gunicorn settings shared by `make run`, CI and production (`gunicorn -c deploy/gunicorn.conf.py`).

gunicorn writes a "Server: gunicorn" header of its own on every response, below anything the
application can change, and has no setting for it. This file runs in the master before any
worker starts, so the workers inherit the change below: the header is left out entirely, and the
response names no server software.
"""

import os
import sys
from pathlib import Path

from gunicorn.http import wsgi as _wsgi

_default_headers = _wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


_wsgi.Response.default_headers = _default_headers_without_server


# --- Production settings (docs/deploy.md); command-line flags still override any of them ---------
# The project folder, whatever directory gunicorn was started from: the app and
# clinic.logging are imported from here.
chdir = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, chdir)
wsgi_app = "clinic.wsgi:application"

# Loopback only: nginx in front is the one public listener. GUNICORN_BIND takes several
# addresses, comma-separated (e.g. a second port for a second instance).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# The usual 2 x cores + 1 sync workers (each holds one request, and nginx buffers slow clients
# so none waits on a phone's connection); WEB_CONCURRENCY caps it on small or shared machines.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = 2 * _cores + 1
if os.environ.get("WEB_CONCURRENCY"):
    workers = max(1, min(workers, int(os.environ["WEB_CONCURRENCY"])))

# A request still running after 30 s is killed and its worker replaced (nginx waits a little
# longer, see deploy/nginx/clinic.conf); on stop or reload, requests in flight get 30 s to finish.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle each worker after about twenty thousand requests, staggered, so a slow leak never grows
# (workers hold 78-80 MB at the end of a bench run, docs/benchmarks.md). Not sooner: a new worker imports
# Django and the site again, about half a second of CPU, which under a burst of traffic is taken
# from the requests waiting (at 1000 requests it halved the static files' and cached pages' rate,
# docs/benchmarks.md). At this clinic's traffic it still means a fresh worker every few days.
max_requests = 20000
max_requests_jitter = 2000
# SIGHUP (systemctl reload clinic-web) starts new workers on the new code, then retires the old
# ones gracefully: gunicorn's default, kept by not preloading the app in the master.
preload_app = False
# gunicorn's control socket ($HOME/.gunicorn/gunicorn.ctl) is not used: systemd signals the
# master instead, and two instances on one host would fight over that one path.
control_socket_disable = True

# Only these proxies may say the request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs: JSON lines on stdout. The one line per request is written by the application
# (clinic.logging.request_log), which knows the request id and masks tokens in paths, and runs
# the same under any server; gunicorn's access log would only repeat it, so it stays off (turned
# on with --access-logfile, GunicornLogger still writes it without query string or address).
# gunicorn's own lines (start, workers, timeouts) go through the same JSON formatter.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "clinic.logging.GunicornLogger"
