"""SQL query budgets for the public pages, which hold whatever the machine's speed.

The admin's appointment list and the agenda are held constant in the number of rows by
tests/booking/test_admin_workspace.py (test_the_list_makes_the_same_number_of_queries_for_5_and_100_appointments)
and tests/booking/test_agenda.py (test_agenda_reads_the_same_number_of_queries_for_5_and_100_appointments).
Here the cache is the per-test memory cache of tests/conftest.py, so a cache read costs no query
(as with Redis); tests/clinic/test_page_cache.py counts the shared DatabaseCache's own read. The
clinic's details are in the cache, as they are after the first page a worker serves or any staff edit.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.links import manage_token
from booking.models import Appointment, Practitioner, Treatment
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.cache import clinic_details
from tests.factories import answers_fine, appointment_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clinic_details_cached(db):
    clinic_details()


GET_STEP_BUDGET = 4
# The details page also reads the treatment's health questions (step 3 of 3, or of 4).
DETAILS_BUDGET = GET_STEP_BUDGET + 1
# A valid request writes the appointment, its history row and the queued emails, each one an
# INSERT inside a transaction with its savepoint, so it has a budget of its own; the mailbox's
# open requests are counted under a lock of their own (four more: savepoint, lock, count, release).
# The free times are read once, inside the booking (the form leaves its own check to it). The
# health questions are read once, and the answers written in one INSERT (two more). The two
# emails' task rows are written in the same transaction (before, they were the same two INSERTs
# after the commit, outside what this counts).
POST_BUDGET = 26


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def slot(treatment, working_every_day):
    Practitioner.objects.update(active=False)
    for name in ("Dr Ada Test", "Dr Ben Test", "Dr Cy Test"):
        working_every_day(treatment, name=name, only=False)
    today = first_day_today()
    return free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))[0]


def queries_for(client, url, data=None, *, method="get"):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {})
    return response, [query["sql"] for query in queries]


def test_home_makes_at_most_two_queries_then_none_from_the_cache(client):
    response, first = queries_for(client, "/")
    assert response.status_code == 200
    assert len(first) <= 2, first
    response, again = queries_for(client, "/")
    assert response.status_code == 200
    assert again == []


def test_faq_makes_at_most_two_queries_then_none_from_the_cache(client):
    response, first = queries_for(client, reverse("faq:index"))
    assert response.status_code == 200
    assert len(first) <= 2, first
    response, again = queries_for(client, reverse("faq:index"))
    assert response.status_code == 200
    assert again == []


def test_a_faq_search_makes_at_most_two_queries_and_none_once_kept(client):
    response, queries = queries_for(client, reverse("faq:index"), {"q": "fat"})
    assert response.status_code == 200
    assert 1 <= len(queries) <= 2, queries
    # The same search again is everyone's page, kept like the FAQ itself.
    response, queries = queries_for(client, reverse("faq:index"), {"q": "fat"})
    assert response.status_code == 200
    assert len(queries) == 0, queries


def test_choosing_a_treatment_makes_at_most_four_queries(client, slot):
    response, queries = queries_for(client, reverse("booking:book"))
    assert response.status_code == 200
    assert len(queries) <= GET_STEP_BUDGET, queries


def test_the_free_times_page_makes_at_most_four_queries(client, treatment, slot):
    Appointment.objects.all().delete()
    response, queries = queries_for(client, reverse("booking:times", kwargs={"treatment_slug": treatment.slug}))
    assert response.status_code == 200
    assert len(queries) <= GET_STEP_BUDGET, queries


def test_the_details_page_makes_at_most_five_queries(client, treatment, slot):
    url = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    response, queries = queries_for(client, url, {"start": start_format(slot.start), "practitioner": "any"})
    assert response.status_code == 200
    assert len(queries) <= DETAILS_BUDGET, queries


def test_a_valid_booking_request_stays_within_its_own_budget(client, treatment, slot):
    url = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    data = {
        "start": start_format(slot.start),
        "practitioner": "any",
        "started": form_token(),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "020 7946 0000",
        "first_visit": "yes",
        "consent": "on",
        **answers_fine(),
    }
    response, queries = queries_for(client, url, data, method="post")
    assert response.status_code in (302, 303)
    assert Appointment.objects.count() == 1
    assert len(queries) <= POST_BUDGET, queries


def test_the_patients_appointment_page_reads_only_the_appointment(client, treatment, slot):
    appointment = appointment_at(slot.start, treatment=treatment, reference="BUDGET23")
    url = reverse("booking:manage", kwargs={"token": manage_token(appointment=appointment)})
    response, queries = queries_for(client, url)
    assert response.status_code == 200
    assert "BUDGET23" in response.content.decode()
    assert len(queries) == 1, queries
