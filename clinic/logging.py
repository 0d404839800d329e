"""Logs as JSON lines on stdout: one per request, one per task run, none with personal data.

Each line is one JSON object with at least ``time``, ``level``, ``logger`` and ``message``, plus
``request_id`` when it was written while a request was being answered. What could identify a
patient is kept out by construction (no query strings, no form data, no addresses, no names) and,
as a safety net for messages written elsewhere, masked on the way out: signed link tokens, email
addresses and public IP addresses. Tracebacks keep their frames but not the exception's text,
which may quote data (a database's DETAIL line, a mail server's reply naming a recipient).
"""

import contextvars
import ipaddress
import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from django.conf import settings
from gunicorn import glogging

request_id_var = contextvars.ContextVar("request_id", default=None)

# An id from nginx ($request_id) or a load balancer is kept, so one id follows a request through
# every layer; anything else a client sends is replaced rather than written into the logs.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")

# Path segments that hold a secret or a person: a signed token (django.core.signing joins its
# parts with ':'), anything with '@', and long opaque strings.
SECRET_SEGMENT_RE = re.compile(r"(?s).*[:@].*|[A-Za-z0-9_=-]{40,}")
# The same shapes inside free text: a signed value (payload:timestamp:signature) and an email.
# The lookbehinds anchor each match at the start of a run, so a long crafted path costs linear time.
SIGNED_VALUE_RE = re.compile(r"(?<![A-Za-z0-9_.=-])[A-Za-z0-9_.=-]*:[A-Za-z0-9_=-]+:[A-Za-z0-9_=-]{20,}")
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IPV4_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
IPV6_RE = re.compile(
    r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4})(?![\w:])"
)
MASK = "<token>"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}

request_logger = logging.getLogger("clinic.request")
task_logger = logging.getLogger("clinic.tasks")


def path_mask(path):
    """The path with every segment that may hold a token or a person replaced by <token>."""
    return "/".join(MASK if SECRET_SEGMENT_RE.fullmatch(segment) else segment for segment in path.split("/"))


def ip_mask(match):
    # A server's own or private address (gunicorn's "Listening at") is no one's personal data.
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return "<ip>" if address.is_global else match.group(0)


def text_redact(text):
    """Free text with signed tokens, email addresses and public IP addresses masked."""
    text = SIGNED_VALUE_RE.sub(MASK, text)
    text = EMAIL_RE.sub("<email>", text)
    text = IPV6_RE.sub(ip_mask, text)
    return IPV4_RE.sub(ip_mask, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given as `extra=` are kept if they are plain values."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": text_redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key in RECORD_ATTRIBUTES or key in entry or key == "request_id":
                continue
            # Objects (Django puts the whole request here) are left out: their text holds the query string.
            if isinstance(value, str):
                entry[key] = text_redact(value)
            elif value is None or isinstance(value, bool | int | float):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, exc_traceback = record.exc_info
            entry["exception"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            entry["traceback"] = "".join(traceback.format_tb(exc_traceback))
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class WarningsOnly(logging.Filter):
    """For a library whose INFO lines repeat ours (django_tasks' "Task ... state=..." per run)."""

    def filter(self, record):
        return record.levelno >= logging.WARNING


def request_log(get_response):
    """Give every request an id (X-Request-ID, also on the response) and write one line about it.

    First in MIDDLEWARE, so the line covers every other middleware and static files too. The
    line holds the method, the path without its query string and with tokens masked, the status
    and the time taken; never the client's address, headers or form data. Only requests worth a
    look get one (request_is_logged): a line for every page view filled a small server's disk.
    """

    def middleware(request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        reset_token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = get_response(request)
            response.headers["X-Request-ID"] = request_id
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            if not request_is_logged(request, response, duration_ms):
                return response
            path = path_mask(request.path)
            request_logger.info(
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "event": "request",
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(reset_token)

    return middleware


def request_is_logged(request, response, duration_ms):
    """Errors (4xx and 5xx), slow requests and anything but GET or HEAD; every request with
    CLINIC_LOG_ALL_REQUESTS."""
    return (
        settings.CLINIC_LOG_ALL_REQUESTS
        or response.status_code >= 400
        or request.method not in ("GET", "HEAD")
        or duration_ms >= settings.CLINIC_LOG_SLOW_MS
    )


def task_enqueued_log(sender, task_result, **kwargs):
    # The link from a request's id to the task it queued: the worker runs it later, outside the request.
    task_logger.info(
        "Task %s queued (%s)",
        task_result.task.name,
        task_result.id,
        extra={"event": "task_enqueued", "task": task_result.task.module_path, "task_id": str(task_result.id)},
    )


def task_finished_log(sender, task_result, **kwargs):
    duration_ms = None
    if task_result.started_at and task_result.finished_at:
        duration_ms = round((task_result.finished_at - task_result.started_at).total_seconds() * 1000, 1)
    extra = {
        "event": "task",
        "task": task_result.task.module_path,
        "task_id": str(task_result.id),
        "status": str(task_result.status),
        "duration_ms": duration_ms,
    }
    if task_result.errors:
        extra["error"] = task_result.errors[-1].exception_class_path
    level = logging.ERROR if "error" in extra else logging.INFO
    task_logger.log(level, "Task %s %s", task_result.task.name, task_result.status, extra=extra)


def task_signals_connect():
    """Called from ClinicConfig.ready(): every process (web, worker, commands) logs its task runs."""
    from django_tasks.signals import task_enqueued, task_finished

    task_enqueued.connect(task_enqueued_log, dispatch_uid="clinic.logging.task_enqueued")
    task_finished.connect(task_finished_log, dispatch_uid="clinic.logging.task_finished")


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (start, workers, timeouts) as JSON on stdout, like the application's.

    The request line comes from `request_log` above, so deploy/gunicorn.conf.py leaves gunicorn's
    access log off. Should someone turn it on anyway (--access-logfile), its lines are built here
    from the same safe fields: no query string, no client address, no user agent, tokens masked.
    """

    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not getattr(handler, "_gunicorn", False):
                    continue
                handler.setFormatter(formatter)
                if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
                    handler.setStream(sys.stdout)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = int(str(resp.status).split(None, 1)[0])
        headers = {name.lower(): value for name, value in resp.headers}
        path = path_mask(environ.get("PATH_INFO", ""))
        self.access_log.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD"),
            path,
            status,
            extra={
                "event": "access",
                "method": environ.get("REQUEST_METHOD"),
                "path": path,
                "status": status,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "request_id": headers.get("x-request-id"),
            },
        )
