"""JSON-line logs: one per request and per task run, with a request id and no personal data."""

import io
import json
import logging
import signal
import sys

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from booking.emails.tasks import message_send
from booking.models import Message, MessageKind, MessageStatus
from booking.waitlist.tasks import waitlist_match
from clinic.logging import JsonFormatter, request_id_var

pytestmark = pytest.mark.django_db

FORMATTER = JsonFormatter()


@pytest.fixture
def log_lines():
    """What the console handler writes, as parsed JSON: lines are formatted as they are written,
    while the request that wrote them is still being answered, as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def read(logger=None):
        entries = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [entry for entry in entries if logger is None or entry["logger"] == logger]

    yield read
    root.removeHandler(handler)


def test_every_request_gets_an_id_and_one_json_line_without_its_query_string(client, log_lines, settings):
    settings.CLINIC_LOG_ALL_REQUESTS = True
    response = client.get("/faq/?name=Ada+Lovelace&email=ada%40example.com")

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = log_lines("clinic.request")
    assert line["request_id"] == request_id
    assert line["method"] == "GET"
    assert line["path"] == "/faq/"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["message"] == "GET /faq/ 200"
    # The request id is random hex and may spell "ada": look at everything but it.
    logged = json.dumps({key: value for key, value in line.items() if key != "request_id"})
    assert "Ada" not in logged
    assert "ada" not in logged
    assert "example.com" not in logged


def test_by_default_only_errors_slow_requests_and_posts_get_a_line(client, log_lines, settings):
    settings.CLINIC_LOG_SLOW_MS = 500
    client.get("/faq/")  # a page view: no line
    client.get("/no-such-page/")  # an error
    client.post("/faq/")  # not a GET (refused: 405)
    assert [(line["method"], line["status"]) for line in log_lines("clinic.request")] == [("GET", 404), ("POST", 405)]

    settings.CLINIC_LOG_SLOW_MS = 0  # every request is "slow" now
    client.get("/faq/")
    assert log_lines("clinic.request")[-1]["path"] == "/faq/"


def test_a_request_id_from_the_proxy_is_kept_and_anything_else_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "0f3c9a7d2b1e4c5f8a6d"})["X-Request-ID"] == (
        "0f3c9a7d2b1e4c5f8a6d"
    )
    for unsafe in ["ada@example.com", "<script>alert(1)</script>", "short", "x" * 65, "a b c d e f g h"]:
        replaced = client.get("/healthz", headers={"X-Request-ID": unsafe})["X-Request-ID"]
        assert replaced != unsafe
        assert len(replaced) == 32


def test_the_token_in_a_patients_link_never_reaches_the_log(client, log_lines):
    token = signing.dumps("ABC-123", salt="booking.manage")
    client.get(f"/appointment/{token}/cancel/")

    [line] = log_lines("clinic.request")
    assert line["path"] == "/appointment/<token>/cancel/"
    assert token not in json.dumps(log_lines())


def test_a_line_written_while_answering_a_request_carries_its_id(client, log_lines, monkeypatch):
    from clinic import views

    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/healthz")

    [warning] = log_lines("clinic.views")
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == response["X-Request-ID"]
    assert request_id_var.get() is None  # nothing leaks into whatever this thread does next


def test_emails_tokens_and_public_addresses_are_masked_in_any_message():
    token = signing.dumps("ABC-123", salt="booking.manage")
    record = logging.LogRecord(
        "booking", logging.WARNING, __file__, 1, "Mail to %s from %s failed for %s (server %s)", None, None
    )
    record.args = ("ada.lovelace@example.co.uk", "81.2.69.160", f"/appointment/{token}/", "127.0.0.1")
    line = json.loads(FORMATTER.format(record))
    assert line["message"] == "Mail to <email> from <ip> failed for /appointment/<token>/ (server 127.0.0.1)"


def test_an_exception_logs_its_type_and_frames_but_not_its_text():
    detail = 'duplicate key: Key (email)=(ada@example.com) already exists.\nDETAIL: "Ada Lovelace"'
    try:
        raise IntegrityError(detail)
    except IntegrityError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), None)
        record.exc_info = sys.exc_info()
    line = json.loads(FORMATTER.format(record))
    assert line["exception"] == "django.db.utils.IntegrityError"
    assert "test_an_exception_logs_its_type_and_frames_but_not_its_text" in line["traceback"]
    assert "ada@example.com" not in json.dumps(line)
    assert "Lovelace" not in json.dumps(line)


@pytest.fixture
def worker():
    """`manage.py db_worker --batch` in this process; pytest's own signal handlers come back after."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield lambda: call_command("db_worker", "--batch", "--no-startup-delay", verbosity=1, stdout=io.StringIO())
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_a_task_run_logs_one_line_with_status_and_duration_linked_to_the_request_that_queued_it(log_lines, worker):
    sent = Message.objects.create(
        kind=MessageKind.REMINDER, dedupe_key="already-sent", send_after=timezone.now(), status=MessageStatus.SENT
    )
    reset = request_id_var.set("req-0123456789")
    try:
        queued = message_send.enqueue(sent.pk)
    finally:
        request_id_var.reset(reset)

    worker()

    task_lines = log_lines("clinic.tasks")
    assert [(line["event"], line.get("request_id")) for line in task_lines] == [
        ("task_enqueued", "req-0123456789"),
        ("task", None),  # run later by the worker, outside any request: the task id links the two
    ]
    assert {line["task_id"] for line in task_lines} == {str(queued.id)}
    run = task_lines[1]
    assert run["task"] == "booking.emails.tasks.message_send"
    assert run["status"] == "SUCCESSFUL"
    assert run["level"] == "INFO"
    assert run["duration_ms"] >= 0
    # django_tasks' own "Task ... state=..." lines would only repeat this one.
    assert log_lines("django_tasks") == []


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_logs_the_error_class_but_not_its_arguments_or_message(log_lines, worker):
    waitlist_match.enqueue("ada@example.com", 1)

    worker()

    run = next(line for line in log_lines("clinic.tasks") if line["event"] == "task")
    assert run["status"] == "FAILED"
    assert run["level"] == "ERROR"
    assert run["error"] == "builtins.ValueError"
    # django_tasks logs the failure with its traceback, still without the exception's text.
    [failure] = log_lines("django_tasks")
    assert failure["exception"] == "builtins.ValueError"
    assert "ada@example.com" not in json.dumps(log_lines())


def test_gunicorns_access_log_if_turned_on_writes_the_same_safe_fields(capsys):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from clinic.logging import GunicornLogger

    config = Config()
    config.set("accesslog", "-")
    log = GunicornLogger(config)
    token = signing.dumps("ABC-123", salt="booking.manage")
    response = SimpleNamespace(status="404 Not Found", headers=[("X-Request-ID", "0f3c9a7d2b1e4c5f8a6d")], sent=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/appointment/{token}/",
        "QUERY_STRING": "email=ada%40example.com",
        "RAW_URI": f"/appointment/{token}/?email=ada%40example.com",
        "REMOTE_ADDR": "81.2.69.160",
        "HTTP_USER_AGENT": "Ada's phone",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    try:
        log.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    finally:
        for logger in (log.error_log, log.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)

    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["logger"] == "gunicorn.access"
    assert line["path"] == "/appointment/<token>/"
    assert line["status"] == 404
    assert line["request_id"] == "0f3c9a7d2b1e4c5f8a6d"
    assert line["duration_ms"] == 12.0
    for secret in (token, "ada", "81.2.69.160", "phone"):
        assert secret not in json.dumps(line)
