"""Two gunicorn instances (two web hosts) on one PostgreSQL, and Redis when it answers: they behave as one site.

Nothing a request needs lives in one process's memory: the no-overlap rule is PostgreSQL's,
rate counts are in the shared cache (PostgreSQL tables, or Redis with REDIS_URL), sessions are
rows in PostgreSQL.
"""

import contextlib
import os
import socket
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import dj_database_url
import psycopg2
import pytest

from tests.factories import code_from
from tests.resilience.running_site import (
    PYTHON,
    REPO,
    TREATMENT,
    Gunicorn,
    booking_form,
    booking_post,
    cookies_from,
    csrf_token_in,
    database_prepare,
    manage,
    site_env,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
RACERS = 6  # three through each instance
PASSWORD = "resilience-admin-password-7391"
AUTHENTICATORS = {}  # user name -> provisioning URI


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_flush_db_14():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # database 14 only: the one these tests use
    client.close()


@pytest.fixture(scope="module")
def scratch_database():
    """A database of its own on the server the test run uses, dropped afterwards."""
    server = dj_database_url.parse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"clinic_two_{uuid.uuid4().hex[:10]}"
    connect = {
        "host": server["HOST"] or None,
        "port": server["PORT"] or None,
        "user": server["USER"] or None,
        "password": server["PASSWORD"] or None,
    }
    admin = psycopg2.connect(dbname="postgres", **connect)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = server["USER"] + (f":{server['PASSWORD']}" if server["PASSWORD"] else "")
        host = f"{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        database_url = f"postgres://{auth}@{host}/{name}"
        env = site_env(database_url)
        slots = database_prepare(env)
        manage(
            {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            "createsuperuser",
            "--noinput",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        )
        # The second factor is on, as a clinic deploys it: boss's authenticator, enrolled as staff do.
        uri = next(line for line in manage(env, "otp_enroll", "boss").splitlines() if line.startswith("otpauth://"))
        AUTHENTICATORS["boss"] = uri
        yield database_url, slots
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module", params=["postgres-cache", "redis-cache"])
def two_sites(request, scratch_database, tmp_path_factory):
    database_url, slots = scratch_database
    extra = {
        "CLINIC_RATELIMIT_ENABLED": "1",
        "CLINIC_RATELIMIT_PER_ADDRESS": "3/10m",
        # Each simulated patient gets an address of its own through X-Forwarded-For.
        "CLINIC_TRUSTED_PROXIES": "127.0.0.1",
    }
    if request.param == "redis-cache":
        if not redis_answers():
            pytest.skip("Redis does not answer on 127.0.0.1:6379")
        redis_flush_db_14()
        extra["REDIS_URL"] = REDIS_URL
    env = site_env(database_url, **extra)
    logs = tmp_path_factory.mktemp(f"two-{request.param}")
    first = Gunicorn(env, logs / "a.log", workers=2)
    try:
        second = Gunicorn(env, logs / "b.log", workers=2)
        try:
            # The Redis run books other times than the PostgreSQL run.
            offset = 0 if request.param == "postgres-cache" else 1
            yield first, second, slots[offset::2], database_url, request.param
        finally:
            second.stop()
    finally:
        first.stop()
        if request.param == "redis-cache":
            redis_flush_db_14()


def address(number):
    return {"X-Forwarded-For": f"198.51.100.{number}"}


def test_booking_one_time_through_both_instances_at_once_makes_exactly_one_appointment(two_sites):
    first, second, slots, database_url, _ = two_sites
    start = slots[0]
    racers = [(first if n % 2 == 0 else second, address(10 + n)) for n in range(RACERS)]
    forms = [booking_form(site, start, headers=headers) for site, headers in racers]
    barrier = threading.Barrier(RACERS, timeout=30)
    run = uuid.uuid4().hex[:8]

    def book(n):
        site, headers = racers[n]
        barrier.wait()
        return booking_post(
            site, start=start, csrf=forms[n], email=f"race{n}-{run}@example.com", headers=headers, timeout=30
        )

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = sorted(status for status, _, _ in pool.map(book, range(RACERS)))

    assert statuses == [303] + [409] * (RACERS - 1), statuses
    with contextlib.closing(psycopg2.connect(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM booking_appointment WHERE email LIKE %s", [f"race%-{run}@example.com"])
        assert cursor.fetchone()[0] == 1


def test_a_rate_limit_counts_attempts_made_on_either_instance(two_sites):
    first, second, slots, _, cache = two_sites
    patient = address(99)
    forms = {site: booking_form(site, slots[1], headers=patient) for site in (first, second)}
    statuses = []
    for attempt in range(4):
        site = (first, second)[attempt % 2]
        # An incomplete form (no email): counted, never booked.
        status, _, html = booking_post(site, start=slots[1], csrf=forms[site], email="", headers=patient)
        statuses.append(status)
    assert statuses[:3] == [400, 400, 400], statuses  # the form again, with its error
    assert statuses[3] == 429
    assert "Too many attempts" in html
    if cache == "redis-cache":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        assert any(b"clinic-ratelimit" in key for key in client.keys("*"))  # counted in Redis, not PostgreSQL
        client.close()


def test_a_login_on_one_instance_is_valid_on_the_other(two_sites):
    first, second, _, database_url, _ = two_sites
    # Both cache variants sign in on one database within 30 s: forget the code used by the first.
    with contextlib.closing(psycopg2.connect(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE otp_totp_totpdevice SET last_t = -1")
        connection.commit()
    staff = address(120)
    status, received, html = first.request("GET", "/admin/login/?next=/admin/", headers=staff)
    assert status == 200
    csrf = cookies_from(received)["csrftoken"]
    body = urlencode(
        {
            "csrfmiddlewaretoken": csrf_token_in(html),
            "username": "boss",
            "password": PASSWORD,
            "otp_token": code_from(AUTHENTICATORS["boss"]),
            "next": "/admin/",
        }
    )
    status, received, _ = first.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}", **staff},
    )
    assert status == 302, status
    session = cookies_from(received)["sessionid"]

    status, _, html = second.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}", **staff})
    assert status == 200
    assert "Log out" in html
    status, _, _ = second.request("GET", "/admin/", headers=staff)
    assert status == 302  # without the cookie: the login page


def test_uploads_go_to_the_storage_named_in_the_environment_and_local_disk_by_default():
    script = (
        "from django.core.files.storage import storages; s = storages['default']; print(type(s).__name__, s.base_url)"
    )
    env = site_env("postgres://postgres@127.0.0.1:5432/unused")

    def storage_with(**extra):
        result = subprocess.run(
            [PYTHON, "-c", f"import django; django.setup(); {script}"],
            cwd=REPO,
            env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings", **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.split()

    assert storage_with()[0] == "FileSystemStorage"
    assert storage_with(
        CLINIC_MEDIA_STORAGE="django.core.files.storage.InMemoryStorage",
        CLINIC_MEDIA_STORAGE_OPTIONS='{"base_url": "/shared-media/"}',
    ) == ["InMemoryStorage", "/shared-media/"]


def test_a_time_booked_through_one_instance_is_offered_by_neither_right_after(two_sites):
    """Each worker keeps the free-times page it rendered; a booking anywhere retires every copy at once."""
    first, second, slots, _, cache = two_sites
    start = slots[4]
    radio = f'value="{start}"'
    times_path = f"/book/{TREATMENT}/"
    # Enough views that every worker of both instances has rendered and kept the page.
    for _ in range(6):
        for site in (first, second):
            status, _, html = site.request("GET", times_path)
            assert status == 200
            assert radio in html

    patient = address(60)
    status, _, _ = booking_post(
        first,
        start=start,
        csrf=booking_form(first, start, headers=patient),
        email=f"kept-{cache}@example.com",
        headers=patient,
    )
    assert status == 303

    for _ in range(6):
        for site in (second, first):
            status, _, html = site.request("GET", times_path)
            assert status == 200
            assert radio not in html
