"""The free-times page keeps what it computed per availability version: never a time no longer free.

Each worker keeps its lists (booking.availability.Computed) under a version in the shared cache;
every saved or deleted appointment, closure, working-hours row, practitioner, treatment or booking
rule writes a new one (booking.signals). These tests watch the page a patient sees.
"""

import re
from datetime import time, timedelta

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from booking.appointments.services import appointment_transition
from booking.models import AppointmentStatus, Closure, Treatment, WorkingHours
from booking.requests.forms import start_parse
from booking.schedule import availability
from booking.schedule.availability import AVAILABILITY_VERSION_KEY, Computed, first_day_today, free_slots
from clinic.cache import MESSAGES_COOKIE, clinic_details
from clinic.models import ClinicDetails
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


def offered(client, treatment):
    response = client.get(reverse("booking:times", kwargs={"treatment_slug": treatment.slug}))
    assert response.status_code == 200
    return [start_parse(value) for value in re.findall(r'name="start"[^>]*value="([^"]+)"', response.content.decode())]


def test_a_time_booked_after_the_page_was_shown_is_not_offered_again(client, treatment, practitioner):
    first = offered(client, treatment)
    taken = first[3]
    appointment_at(taken, treatment=treatment, practitioner=practitioner)
    assert taken not in offered(client, treatment)


def test_a_cancelled_appointment_gives_its_time_back_on_the_next_visit(client, treatment, practitioner):
    start = offered(client, treatment)[3]
    appointment = appointment_at(start, treatment=treatment, practitioner=practitioner)
    assert start not in offered(client, treatment)
    appointment_transition(appointment=appointment, to_status=AppointmentStatus.CANCELLED_BY_CLINIC)
    assert start in offered(client, treatment)


def test_a_closure_and_changed_hours_show_at_once(client, treatment, practitioner):
    starts = offered(client, treatment)
    first_day = timezone.localtime(starts[0]).date()
    day_start = timezone.make_aware(timezone.datetime.combine(first_day, time.min))
    Closure.objects.create(starts_at=day_start, ends_at=day_start + timedelta(days=1), reason="Training")
    assert not [s for s in offered(client, treatment) if timezone.localtime(s).date() == first_day]

    WorkingHours.objects.filter(practitioner=practitioner).delete()
    assert offered(client, treatment) == []


def test_a_practitioner_who_stops_giving_the_treatment_has_no_times_for_it(client, treatment, practitioner):
    assert offered(client, treatment)
    practitioner.treatments.remove(treatment)
    assert offered(client, treatment) == []


def test_a_longer_treatment_is_offered_with_its_new_length_at_once(client, treatment, practitioner):
    assert treatment.duration_minutes == 45
    assert timezone.localtime(max(offered(client, treatment))).time() == time(19, 15)  # the visit ends by 20:00
    treatment.duration_minutes = 90
    treatment.save()
    assert timezone.localtime(max(offered(client, treatment))).time() == time(18, 30)


def test_the_page_served_again_reads_only_the_version(client, treatment, practitioner):
    clinic_details()
    offered(client, treatment)
    with CaptureQueriesContext(connection) as queries:
        starts = offered(client, treatment)
    assert starts
    # The per-test cache is in memory (tests/conftest.py), so the version read costs no query here;
    # on the DatabaseCache it is one (docs/benchmarks.md).
    assert [q["sql"] for q in queries.captured_queries] == []


def test_a_kept_list_follows_the_minimum_notice_and_horizon_of_the_moment_it_is_served(treatment, practitioner):
    rules = ClinicDetails.objects.current()
    rules.min_notice_hours = 0
    tomorrow = first_day_today() + timedelta(days=1)
    now = timezone.make_aware(timezone.datetime.combine(tomorrow, time(9, 58)))
    later = now + timedelta(seconds=availability.CACHED_SECONDS - 1)  # 10:02:59, still within the kept time
    args = {"treatment": treatment, "first_day": tomorrow, "last_day": tomorrow + timedelta(days=61)}
    kept = Computed()
    at_first = [s.start for s in kept.free_slots(now=now, rules=rules, **args)]
    served_later = [s.start for s in kept.free_slots(now=later, rules=rules, **args)]

    # Exactly what a fresh computation gives at that moment.
    assert served_later == [s.start for s in free_slots(now=later, rules=rules, **args)]
    # 10:00 tomorrow was bookable at 09:58 and is gone at 10:02...
    assert timezone.localtime(at_first[0]).time() == time(10)
    assert timezone.localtime(served_later[0]).time() == time(10, 15)
    # ...and 10:00 on the horizon's last day, past it at 09:58, is offered at 10:02.
    horizon_day = now + timedelta(days=rules.booking_horizon_days)
    at_horizon = horizon_day.replace(minute=0) + timedelta(hours=1)
    assert timezone.localtime(at_horizon).time() == time(10)
    assert at_horizon not in at_first
    assert at_horizon in served_later


@pytest.mark.django_db(transaction=True)
def test_other_workers_see_a_new_version_only_once_the_change_commits(clinic_content, treatment, practitioner):
    before = availability.availability_version()
    start = free_slots(treatment=treatment, first_day=first_day_today(), last_day=first_day_today() + timedelta(7))[0]
    with transaction.atomic():
        appointment_at(start.start, treatment=treatment, practitioner=practitioner)
        assert cache.get(AVAILABILITY_VERSION_KEY) == before  # not yet: the booking may still roll back
    assert cache.get(AVAILABILITY_VERSION_KEY) != before


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_the_version_alone(clinic_content, treatment, practitioner):
    before = availability.availability_version()
    start = free_slots(treatment=treatment, first_day=first_day_today(), last_day=first_day_today() + timedelta(7))[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_at(start.start, treatment=treatment, practitioner=practitioner)
        raise RuntimeError
    assert cache.get(AVAILABILITY_VERSION_KEY) == before


def test_another_workers_change_reaches_this_worker_through_the_version(client, treatment, practitioner):
    start = offered(client, treatment)[3]
    # Another worker books (its own lists are cleared there, not here) and publishes a new version.
    keep = availability.computed.entries.copy()
    appointment_at(start, treatment=treatment, practitioner=practitioner)
    availability.computed.entries.update(keep)  # as if this worker had seen nothing
    assert start in offered(client, treatment)  # proves the copy is what would be served...
    cache.set(AVAILABILITY_VERSION_KEY, "published-by-another-worker", None)
    assert start not in offered(client, treatment)  # ...until the new version arrives


def flash(client, text):
    """A message waiting for this visitor, as the messages framework leaves it in a cookie."""
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.INFO, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[MESSAGES_COOKIE] = response.cookies[MESSAGES_COOKIE].value


def test_the_kept_page_is_the_same_page_and_a_waiting_message_still_shows(client, treatment, practitioner):
    url = reverse("booking:times", kwargs={"treatment_slug": treatment.slug})
    first = client.get(url)
    again = client.get(url)
    assert again.content == first.content
    assert "Content-Security-Policy" in again.headers

    flash(client, "Your appointment was cancelled.")
    with_message = client.get(url).content.decode()
    assert "Your appointment was cancelled." in with_message
    assert "Your appointment was cancelled." not in client.get(url).content.decode()  # shown once


def test_coming_back_to_change_the_time_shows_the_chosen_one_checked(client, treatment, practitioner):
    url = reverse("booking:times", kwargs={"treatment_slug": treatment.slug})
    client.get(url)  # the page without a choice is kept
    chosen = re.findall(r'name="start"[^>]*value="([^"]+)"', client.get(url).content.decode())[2]
    html = client.get(url, {"start": chosen}).content.decode()
    assert re.search(rf'value="{re.escape(chosen)}" checked', html)
    assert len(re.findall(r"\bchecked\b", html)) == 1
    assert "checked" not in client.get(url).content.decode()


def test_a_kept_page_never_outlives_its_day(client, treatment, practitioner, monkeypatch):
    # No free times at all: the list is the same (empty) whatever the day, the page's period is not.
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    url = reverse("booking:times", kwargs={"treatment_slug": treatment.slug})
    today = first_day_today()
    assert f"Free times from {date_format(today, 'l j F')}" in client.get(url).content.decode()

    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    html = client.get(url).content.decode()
    assert f"Free times from {date_format(today + timedelta(days=1), 'l j F')}" in html


def test_a_kept_page_stops_offering_a_time_the_moment_it_falls_inside_the_minimum_notice(
    client, treatment, practitioner, monkeypatch
):
    first = offered(client, treatment)[0]
    assert offered(client, treatment)[0] == first  # the kept page
    notice = timedelta(hours=clinic_details().min_notice_hours)
    just_before = first - notice - timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: just_before)
    assert offered(client, treatment)[0] == first
    monkeypatch.setattr(timezone, "now", lambda: just_before + timedelta(seconds=2))
    assert first not in offered(client, treatment)
