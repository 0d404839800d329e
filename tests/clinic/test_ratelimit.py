"""Rate limits on the public forms: per client address and per email address, counted in a store every
gunicorn worker and host shares (PostgreSQL, or Redis when REDIS_URL is set), answered with the site's 429 page."""

import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.appointments.services import appointment_request
from booking.links import manage_token, waitlist_claim_token
from booking.models import (
    Appointment,
    AppointmentStatus,
    Message,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
)
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic import settings as settings_module
from clinic.models import PrivacyNotice
from clinic.ratelimit import address_key, email_key, ratelimit_hit
from tests.factories import answers_fine

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
# A day-long window: a test never straddles the window's end (which would restart the count).
DAY = 24 * 3600

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "",
    "first_visit": "yes",
    "consent": "on",
}


@pytest.fixture
def limits(settings, db):
    """Rate limits on, as on the site, with small numbers; no count left over from another test."""
    settings.CLINIC_RATELIMIT_ENABLED = True
    settings.CLINIC_RATELIMIT_PER_ADDRESS = (3, DAY)
    settings.CLINIC_RATELIMIT_PER_EMAIL = (2, DAY)
    settings.CLINIC_RATELIMIT_PER_APPOINTMENT = (2, DAY)
    database_caches = settings.CACHES
    caches[settings.CLINIC_RATELIMIT_CACHE].clear()
    yield settings
    settings.CACHES = database_caches  # a test may have swapped the store
    caches[settings.CLINIC_RATELIMIT_CACHE].clear()


def redis_cache_settings():
    """The CACHES the site builds for REDIS_URL=redis://127.0.0.1:6379/15 (clinic/settings.py)."""
    saved = settings_module.REDIS_URL
    settings_module.REDIS_URL = REDIS_TEST_URL
    try:
        return {
            "default": settings_module.shared_cache("default"),
            "ratelimit": settings_module.shared_cache("ratelimit"),
        }
    finally:
        settings_module.REDIS_URL = saved


@pytest.fixture
def redis_store(settings):
    """Django's RedisCache on database 15 of the machine's Redis; its rate-limit keys are removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 and CI is set: CI must provide it.")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (apt-get install redis-server)")

    def flush():
        for key in client.scan_iter("clinic-ratelimit:*"):
            client.delete(key)

    flush()
    settings.CACHES = redis_cache_settings()
    yield client
    flush()
    client.close()


@pytest.fixture(params=["database", "redis"])
def store(request):
    """Each shared store the site can count in: the database cache, and Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_store")
    return request.param


@pytest.fixture
def treatment(db, working_every_day):
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment)
    return treatment


@pytest.fixture
def starts(treatment):
    """Free times two hours or more apart, so booking one never takes another."""
    today = first_day_today()
    chosen = []
    for slot in free_slots(
        treatment=treatment, first_day=today + timedelta(days=1), last_day=today + timedelta(days=7)
    ):
        if not chosen or slot.start >= chosen[-1] + timedelta(hours=2):
            chosen.append(slot.start)
    return chosen


def details_url(treatment):
    return reverse("booking:details", kwargs={"treatment_slug": treatment.slug})


def booking(start, **changes):
    data = {"start": start_format(start), "practitioner": "any", "started": form_token(), **TYPED, **answers_fine()}
    data.update(changes)
    return data


def invalid_booking(start):
    return booking(start, consent="")


def client_from(address, **headers):
    return Client(REMOTE_ADDR=address, **headers)


def assert_429_page(response):
    html = response.content.decode()
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= DAY
    assert "Too many attempts" in html
    minutes = int(re.search(r"Please wait (\d+) minutes?", html).group(1))
    assert minutes == -(-retry_after // 60)
    assert "phone the clinic" in html
    assert "no-store" in response["Cache-Control"]


# --- per address -----------------------------------------------------------------------------------


def test_the_booking_post_over_the_limit_from_one_address_gets_429_and_stores_nothing(limits, treatment, starts):
    patient = client_from("203.0.113.7")
    for _ in range(3):
        assert patient.post(details_url(treatment), invalid_booking(starts[0])).status_code == 400

    response = patient.post(details_url(treatment), booking(starts[0]))

    assert_429_page(response)
    assert not Appointment.objects.exists()
    assert not Message.objects.exists()


def test_another_address_is_not_limited(limits, treatment, starts):
    for _ in range(4):
        client_from("203.0.113.7").post(details_url(treatment), invalid_booking(starts[0]))

    response = client_from("203.0.113.8").post(details_url(treatment), booking(starts[0]))

    assert response.status_code == 303
    assert Appointment.objects.count() == 1


def test_pages_and_free_times_can_still_be_opened_when_the_limit_is_reached(limits, treatment, starts):
    patient = client_from("203.0.113.7")
    for _ in range(4):
        patient.post(details_url(treatment), invalid_booking(starts[0]))

    assert (
        patient.get(details_url(treatment), {"start": start_format(starts[0]), "practitioner": "any"}).status_code
        == 200
    )


def test_ipv6_clients_are_counted_by_their_64_block():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"


# --- per email address -----------------------------------------------------------------------------


def test_the_email_limit_counts_across_addresses(limits, treatment, starts):
    first = client_from("203.0.113.1").post(details_url(treatment), booking(starts[0]))
    second = client_from("198.51.100.2").post(details_url(treatment), booking(starts[1]))
    # The same mailbox, however it is written.
    third = client_from("192.0.2.3").post(details_url(treatment), booking(starts[2], email="Ada+Again@Example.com"))

    assert (first.status_code, second.status_code) == (303, 303)
    assert_429_page(third)
    assert Appointment.objects.count() == 2
    assert not Appointment.objects.filter(starts_at=starts[2]).exists()


def test_one_address_books_only_its_daily_allowance_whatever_mailboxes_it_makes_up(limits, treatment, starts):
    """New domains cost an attacker nothing; each request holds one of the clinic's times."""
    limits.CLINIC_RATELIMIT_PER_ADDRESS = (20, DAY)
    limits.CLINIC_RATELIMIT_BOOKINGS_PER_ADDRESS = (2, DAY)
    made_up = [f"someone{n}@domain{n}.example" for n in range(3)]
    statuses = [
        client_from("2001:db8:5:6::1" if n < 2 else "2001:db8:5:6::ffff")
        .post(details_url(treatment), booking(starts[n], email=email))
        .status_code
        for n, email in enumerate(made_up)
    ]

    assert statuses == [303, 303, 429]
    assert Appointment.objects.count() == 2
    # A form with a mistake in it holds no time and does not use the allowance.
    assert client_from("192.0.2.40").post(details_url(treatment), invalid_booking(starts[3])).status_code == 400
    assert client_from("192.0.2.40").post(details_url(treatment), booking(starts[3])).status_code == 303


def test_a_mailbox_with_requests_waiting_is_told_so_and_keeps_what_it_typed(treatment, starts, settings):
    settings.CLINIC_OPEN_REQUESTS_PER_EMAIL = 1
    assert client_from("192.0.2.41").post(details_url(treatment), booking(starts[0])).status_code == 303

    response = client_from("192.0.2.42").post(details_url(treatment), booking(starts[1], email="ADA+2@example.com"))

    html = response.content.decode()
    assert response.status_code == 409
    assert "already has request waiting for the clinic" not in html
    assert "This email address already has request" not in html
    assert "This email address already has a request waiting" in html
    assert 'value="Lovelace"' in html
    assert Appointment.objects.count() == 1


def test_mailboxes_are_told_apart_by_their_address_without_case_or_plus_tag():
    assert email_key(" Ada+Booking@Example.COM ") == email_key("ada@example.com") == "ada@example.com"
    assert email_key("ada@example.org") != email_key("ada@example.com")


def test_the_waitlist_is_limited_per_address_and_per_email(limits, treatment):
    url = reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug})
    day = first_day_today() + timedelta(days=2)
    data = {**TYPED, "date_from": day.isoformat(), "date_to": (day + timedelta(days=2)).isoformat()}

    def days(n):  # a different stretch of days each time, so each sign-up is a new place
        return {"date_from": (day + timedelta(days=n)).isoformat(), "date_to": (day + timedelta(days=n)).isoformat()}

    by_email = [
        client_from(f"203.0.113.{n}").post(url, {**data, **days(n), "started": form_token()}).status_code
        for n in (1, 2, 3)
    ]
    assert by_email[:2] == [303, 303]
    assert by_email[2] == 429
    assert WaitlistEntry.objects.count() == 2

    bot = client_from("198.51.100.9")
    statuses = [
        bot.post(url, {**data, "email": f"n{n}@example.com", "started": form_token()}).status_code for n in range(4)
    ]
    assert statuses == [303, 303, 303, 429]
    assert not WaitlistEntry.objects.filter(email="n3@example.com").exists()


# --- self-service and waitlist claims: per address and per appointment -----------------------------


@pytest.fixture
def appointment(treatment, starts):
    return appointment_request(
        treatment=treatment,
        start=starts[-2],
        patient={
            **{name: TYPED[name] for name in ("first_name", "last_name", "email", "message")},
            "phone": "+442079460000",
            "first_visit": True,
        },
    )


@pytest.mark.parametrize("name", ["manage_cancel", "manage_move"])
def test_cancel_and_move_are_limited_per_appointment_across_addresses(limits, appointment, starts, name):
    """Two attempts that change nothing (a move to its own time), then the real one from a third address."""
    token = manage_token(appointment=appointment)
    own_time = {"start": start_format(starts[-2]), "practitioner": "any"}
    for n in (1, 2):
        response = client_from(f"203.0.113.{n}").post(reverse("booking:manage_move", kwargs={"token": token}), own_time)
        assert response.status_code == 400

    url = reverse(f"booking:{name}", kwargs={"token": token})
    response = client_from("192.0.2.3").post(url, {"start": start_format(starts[-1]), "practitioner": "any"})

    assert_429_page(response)
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert (fresh.status, fresh.starts_at) == (AppointmentStatus.REQUESTED, starts[-2])


def test_self_service_posts_are_limited_per_address(limits, appointment):
    url = reverse("booking:manage_move", kwargs={"token": manage_token(appointment=appointment)})
    settings_limit = limits.CLINIC_RATELIMIT_PER_ADDRESS[0]
    forged = reverse("booking:manage_move", kwargs={"token": "not-a-real-link"})
    patient = client_from("203.0.113.7")
    for _ in range(settings_limit):
        assert patient.post(forged, {"start": "x"}).status_code == 404

    assert patient.post(url, {"start": "x"}).status_code == 429


@pytest.fixture
def offered_entry(treatment, starts):
    """A waiting patient whose emailed offer has since been withdrawn: claiming it changes nothing."""
    return WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=first_day_today(),
        date_to=first_day_today() + timedelta(days=7),
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+442079460000",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
        status=WaitlistStatus.WITHDRAWN,
        offered_start=starts[0],
        offered_at=timezone.now(),
    )


def test_a_waitlist_claim_is_limited_per_place_across_addresses(limits, offered_entry):
    url = reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=offered_entry)})

    statuses = [client_from(f"203.0.113.{n}").post(url).status_code for n in (1, 2, 3)]

    assert statuses[:2] == [410, 410]
    assert_429_page(client_from("198.51.100.1").post(url))
    assert not Appointment.objects.exists()


def test_a_waitlist_claim_is_limited_per_address(limits, offered_entry):
    forged = reverse("booking:waitlist_claim", kwargs={"token": "not-a-real-link"})
    url = reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=offered_entry)})
    claimer = client_from("203.0.113.7")
    for _ in range(3):
        assert claimer.post(forged).status_code == 404

    assert_429_page(claimer.post(url))


# --- the client's address --------------------------------------------------------------------------


def test_a_spoofed_x_forwarded_for_cannot_dodge_the_limit(limits, treatment, starts):
    for n in range(3):
        spoofed = client_from("203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        spoofed.post(details_url(treatment), invalid_booking(starts[0]))

    response = client_from("203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.99").post(
        details_url(treatment), booking(starts[0])
    )

    assert response.status_code == 429
    assert not Appointment.objects.exists()


def test_behind_a_trusted_proxy_each_forwarded_client_counts_on_its_own(limits, treatment, starts):
    limits.CLINIC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for n in range(3):
        # The client's own made-up entries on the left change nothing: our proxy appended the real one.
        via_proxy = client_from("10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
        via_proxy.post(details_url(treatment), invalid_booking(starts[0]))

    limited = client_from("10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7").post(
        details_url(treatment), booking(starts[0])
    )
    other = client_from("10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4").post(
        details_url(treatment), booking(starts[0])
    )

    assert limited.status_code == 429
    assert other.status_code == 303


# --- the shared store ------------------------------------------------------------------------------

SUBPROCESS_POST = """
import json, sys
import django
django.setup()
from django.test import Client
path, data, address = json.loads(sys.argv[1])
print("STATUS", Client(REMOTE_ADDR=address).post(path, data).status_code)
"""


@pytest.mark.django_db(transaction=True)
def test_another_worker_process_sees_the_same_count(limits, clinic_content, store, working_every_day):
    """Three POSTs here, the fourth from a separate Python process (another gunicorn worker, or host)."""
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, only=False)
    today = first_day_today()
    start = free_slots(treatment=treatment, first_day=today + timedelta(days=1), last_day=today + timedelta(days=7))[0]
    start = start.start
    for _ in range(3):
        assert client_from("203.0.113.7").post(details_url(treatment), invalid_booking(start)).status_code == 400

    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,  # counter keys are keyed hashes: same key, same counter
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_DEBUG": "0",
        "CLINIC_RATELIMIT_ENABLED": "1",
        "CLINIC_RATELIMIT_PER_ADDRESS": "3/1d",
        "CLINIC_FORM_MIN_SECONDS": "0",
        "REDIS_URL": REDIS_TEST_URL if store == "redis" else "",
    }
    argument = json.dumps([details_url(treatment), booking(start), "203.0.113.7"])
    other_worker = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_POST, argument],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
    )

    assert other_worker.returncode == 0, other_worker.stderr[-2000:]
    assert re.search(r"^STATUS (\d+)$", other_worker.stdout, re.M).group(1) == "429", other_worker.stdout[-2000:]
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_attempts_are_counted_exactly(limits, store):
    """Twenty workers at the same moment against a limit of ten: exactly ten get through."""
    limits.CLINIC_RATELIMIT_PER_ADDRESS = (10, DAY)
    barrier = threading.Barrier(20)

    def attempt(_):
        try:
            barrier.wait()
            return ratelimit_hit(scope="concurrency", kind="address", value="203.0.113.7")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))

    assert sum(result is None for result in results) == 10


@pytest.mark.django_db
def test_the_test_database_has_the_cache_tables(settings):
    """Made by migrate (clinic migration 0006), which is all the test runner, CI and a deploy run."""
    tables = connection.introspection.table_names()

    assert "clinic_cache_default" in tables
    assert "clinic_cache_ratelimit" in tables
    assert settings.CACHES["ratelimit"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_process_memory_is_refused_as_a_store(limits):
    limits.CACHES = {**limits.CACHES, "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    with pytest.raises(ImproperlyConfigured, match="shared by every worker"):
        ratelimit_hit(scope="booking", kind="address", value="203.0.113.7")


def test_a_store_that_does_not_answer_lets_the_form_through_and_says_so_in_the_log(limits, treatment, starts, caplog):
    unreachable = {**redis_cache_settings()["ratelimit"], "LOCATION": "redis://127.0.0.1:1/0"}
    limits.CACHES = {**limits.CACHES, "ratelimit": unreachable}

    response = client_from("203.0.113.7").post(details_url(treatment), booking(starts[0]))

    assert response.status_code == 303
    assert "not counted" in caplog.text


def test_the_switch_turns_every_limit_off(limits, treatment, starts):
    limits.CLINIC_RATELIMIT_ENABLED = False
    statuses = [client_from("203.0.113.7").post(details_url(treatment), invalid_booking(starts[0])).status_code]
    statuses += [client_from("203.0.113.7").post(details_url(treatment), invalid_booking(starts[0])).status_code]
    statuses += [client_from("203.0.113.7").post(details_url(treatment), invalid_booking(starts[0])).status_code]

    assert client_from("203.0.113.7").post(details_url(treatment), booking(starts[0])).status_code == 303
    assert set(statuses) == {400}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10/10m", (10, 600)), ("5/1h", (5, 3600)), ("3/d", (3, 86400)), ("100/30s", (100, 30))],
)
def test_limits_are_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CLINIC_TEST_RATE", value)

    assert settings_module.env_rate("CLINIC_TEST_RATE", "1/1m") == expected


@pytest.mark.parametrize("value", ["10", "10/", "ten/1m", "0/1m", "10/0m", "10/5y"])
def test_a_malformed_limit_stops_the_start_with_a_clear_message(monkeypatch, value):
    monkeypatch.setenv("CLINIC_TEST_RATE", value)

    with pytest.raises(ImproperlyConfigured, match="must look like 10/10m"):
        settings_module.env_rate("CLINIC_TEST_RATE", "1/1m")
