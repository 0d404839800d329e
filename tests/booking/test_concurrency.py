"""Many patients pressing "Book" for the same time at once, through real HTTP and PostgreSQL."""

import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlparse

import pytest
from django.urls import reverse

from booking.models import Appointment, Treatment
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = 20


@pytest.fixture
def bookable(clinic_content, working_every_day):
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, name="Dr Only One")
    today = first_day_today()
    slot = free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))[0]
    return treatment, slot.start


def request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def prepared_form(server, details_path):
    """One patient's session: the details page's CSRF cookie, token and one-time key."""
    status, headers, html = request(server, "GET", details_path)
    assert status == 200
    cookie = SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie.load(value)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie["csrftoken"].value, token


def booking_post(live_server, server, path, session, *, start, first_name, last_name, email):
    """One patient's POST of the details form they were shown (``session``: its CSRF cookie and token)."""
    cookie, token = session
    body = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "start": start_format(start),
            "practitioner": "any",
            "started": form_token(),
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": "020 7946 0000",
            "first_visit": "yes",
            "consent": "on",
            **answers_fine(),
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookie}",
        "Referer": live_server.url + path,
    }
    return request(server, "POST", path, body=body, headers=headers)


def test_twenty_simultaneous_requests_for_one_time_make_exactly_one_appointment(live_server, bookable):
    treatment, start = bookable
    server = urlparse(live_server.url)
    path = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    query = urlencode({"start": start_format(start), "practitioner": "any"})
    sessions = [prepared_form(server, f"{path}?{query}") for _ in range(PATIENTS)]
    barrier = threading.Barrier(PATIENTS)

    def book(index):
        barrier.wait()
        return booking_post(
            live_server,
            server,
            path,
            sessions[index],
            start=start,
            first_name=f"Patient{index}",
            last_name="Racer",
            email=f"patient{index}@example.com",
        )

    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        responses = list(pool.map(book, range(PATIENTS)))

    statuses = sorted(status for status, _, _ in responses)
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(303) == 1, statuses
    assert statuses.count(409) == PATIENTS - 1, statuses
    for status, _, html in responses:
        if status == 409:
            assert "just taken" in html
    assert Appointment.objects.filter(starts_at=start).count() == 1
    assert Appointment.objects.count() == 1


def test_one_mailbox_racing_for_many_times_gets_no_more_open_requests_than_allowed(live_server, bookable, settings):
    """The limit on requests waiting for the clinic holds under real parallel requests (a lock per mailbox)."""
    settings.CLINIC_OPEN_REQUESTS_PER_EMAIL = 2
    treatment, first = bookable
    server = urlparse(live_server.url)
    path = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    today = first_day_today()
    # Times an hour apart, so none blocks another: only the limit can refuse them.
    starts = [slot.start for slot in free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(7))]
    starts = starts[::4][:8]
    sessions = [
        prepared_form(server, f"{path}?{urlencode({'start': start_format(s), 'practitioner': 'any'})}") for s in starts
    ]
    barrier = threading.Barrier(len(starts))

    def book(index):
        barrier.wait()
        # Case and a +tag do not make another mailbox.
        return booking_post(
            live_server,
            server,
            path,
            sessions[index],
            start=starts[index],
            first_name="Holder",
            last_name="Of Times",
            email=f"Holder+{index}@Example.com",
        )

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        responses = list(pool.map(book, range(len(starts))))

    statuses = sorted(status for status, _, _ in responses)
    assert statuses == [303, 303] + [409] * (len(starts) - 2), statuses
    for status, _, html in responses:
        if status == 409:
            assert "already has 2 requests waiting for the clinic&#x27;s answer" in html
            assert 'value="Holder"' in html  # what was typed is kept
    assert Appointment.objects.count() == 2


def test_english_and_french_patients_racing_for_one_time_make_one_appointment_each_told_in_their_language(
    live_server, bookable
):
    """The race holds across languages: one time, one appointment, and each loser reads why in their own."""
    treatment, start = bookable
    server = urlparse(live_server.url)
    english = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    paths = [english if index % 2 else "/fr" + english for index in range(PATIENTS)]
    query = urlencode({"start": start_format(start), "practitioner": "any"})
    sessions = [prepared_form(server, f"{path}?{query}") for path in paths]
    barrier = threading.Barrier(PATIENTS)

    def book(index):
        barrier.wait()
        return booking_post(
            live_server,
            server,
            paths[index],
            sessions[index],
            start=start,
            first_name=f"Patient{index}",
            last_name="Racer",
            email=f"patient{index}@example.com",
        )

    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        responses = list(pool.map(book, range(PATIENTS)))

    statuses = [status for status, _, _ in responses]
    assert sorted(statuses).count(303) == 1 and statuses.count(409) == PATIENTS - 1, statuses
    for path, (status, _, html) in zip(paths, responses, strict=True):
        if status == 409:
            assert ("vient d’être pris" in html) if path.startswith("/fr/") else ("just taken" in html)
    [appointment] = Appointment.objects.filter(starts_at=start)
    winner = paths[statuses.index(303)]
    assert appointment.language == ("fr" if winner.startswith("/fr/") else "en-gb")
