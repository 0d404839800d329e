"""The waitlist: joining it, a freed time offered to the first patient waiting, and claiming it."""

import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlparse

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.appointments.services import appointment_request, appointment_transition
from booking.emails.tasks import message_send
from booking.links import WAITLIST_CLAIM_SALT, confirmation_token, waitlist_claim_token
from booking.models import (
    Appointment,
    AppointmentStatus,
    Message,
    MessageKind,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
)
from booking.requests.botcheck import form_token
from booking.waitlist.services import waitlist_time_freed
from booking.waitlist.tasks import waitlist_match
from clinic.models import PrivacyNotice
from tests.clock import clock_at

TYPED = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@example.com",
    "phone": "020 7946 0000",
    "consent": "on",
}


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone()).astimezone(UTC)


def today():
    return timezone.localdate()


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def day():
    """A local day far enough ahead for any time on it to be bookable."""
    return today() + timedelta(days=3)


@pytest.fixture
def start(day):
    return local(day, 10)


def entry_create(treatment, *, date_from, date_to, name="Waiting", **fields):
    return WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=date_from,
        date_to=date_to,
        first_name=name,
        last_name="Patient",
        email=f"{name.lower()}@example.com",
        phone="+442079460000",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
        **fields,
    )


def offered(treatment, start, *, name):
    return entry_create(
        treatment,
        date_from=timezone.localdate(start),
        date_to=timezone.localdate(start),
        name=name,
        status=WaitlistStatus.OFFERED,
        offered_start=start,
        offered_at=timezone.now(),
    )


def patient(name="Booked"):
    return {
        "first_name": name,
        "last_name": "Patient",
        "email": f"{name.lower()}@example.com",
        "phone": "+442079460001",
        "message": "",
        "first_visit": True,
    }


def signed_value(url):
    """The part of a signed link's token that names what it opens (the rest is its time and signature)."""
    return url.rstrip("/").rsplit("/", 1)[1].split(":")[0]


def join_url(treatment):
    return reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug})


def claim_url(entry):
    return reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=entry)})


def join_data(date_from, date_to, changes=None):
    """The form as a patient sends it; a whole number in ``changes`` is a day that many days from today."""
    data = {**TYPED, "date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "started": form_token()}
    for name, value in (changes or {}).items():
        data[name] = (today() + timedelta(days=value)).isoformat() if isinstance(value, int) else value
    return {name: value for name, value in data.items() if value is not None}


# Joining


@pytest.mark.django_db
def test_the_times_page_links_to_the_waitlist(client, treatment, practitioner):
    html = client.get(reverse("booking:times", kwargs={"treatment_slug": treatment.slug})).content.decode()
    assert f'<a href="{join_url(treatment)}">No time suits you? Join the waitlist</a>' in html


@pytest.mark.django_db
def test_the_waitlist_form_asks_for_details_and_two_dates(client, treatment, practitioner):
    response = client.get(join_url(treatment))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert f"Join the waitlist for {treatment.name}" in html
    assert 'type="date" name="date_from"' in html
    assert 'type="date" name="date_to"' in html
    assert f'min="{today().isoformat()}"' in html
    for label in ("First name", "Last name", "Email address", "Phone number", "First day you could come"):
        assert label in html
    assert f"version {PrivacyNotice.objects.current().version}" in html


@pytest.mark.django_db
def test_joining_stores_the_entry_with_an_e164_phone_consent_and_the_notice_version(client, treatment, practitioner):
    before = timezone.now()
    response = client.post(join_url(treatment), join_data(today() + timedelta(days=2), today() + timedelta(days=9)))

    assert response.status_code == 303
    entry = WaitlistEntry.objects.get()
    assert entry.treatment == treatment
    assert entry.status == WaitlistStatus.WAITING
    assert (entry.date_from, entry.date_to) == (today() + timedelta(days=2), today() + timedelta(days=9))
    assert (entry.first_name, entry.last_name, entry.email) == ("Grace", "Hopper", "grace@example.com")
    assert entry.phone == "+442079460000"
    assert entry.consent_at >= before
    assert entry.privacy_notice == PrivacyNotice.objects.current()

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "You are on the waitlist" in html
    assert "grace@example.com" not in html
    assert "Grace" not in html


@pytest.mark.django_db
def test_sending_the_same_form_twice_makes_one_entry(client, treatment, practitioner):
    data = join_data(today(), today() + timedelta(days=5))
    client.post(join_url(treatment), data)
    client.post(join_url(treatment), data)
    assert WaitlistEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "Enter a phone number we can call"),
        ({"consent": None}, "Tick the box to agree to the privacy notice"),
        ({"date_from": "2001-01-01"}, "The first day cannot be in the past"),
        ({"date_to": "not a date"}, "Enter a date like"),
        ({"date_from": None}, "Enter the first day you could come."),
        ({"date_to": 61}, "up to 60 days ahead"),
        ({"date_from": 5}, "The last day must be on or after the first day."),
    ],
)
def test_bad_input_answers_400_keeps_what_was_typed_and_stores_nothing(
    client, treatment, practitioner, changes, message
):
    response = client.post(join_url(treatment), join_data(today(), today() + timedelta(days=2), changes))
    html = response.content.decode()

    assert response.status_code == 400
    assert "There is a problem" in html
    assert html.count(message) == 2  # in the summary and next to its field
    for name in ("first_name", "last_name", "email"):
        assert f'value="{TYPED[name]}"' in html
    if "phone" not in changes:
        assert f'value="{TYPED["phone"]}"' in html
    assert not WaitlistEntry.objects.exists()


@pytest.mark.django_db
def test_a_name_of_invisible_characters_is_refused_and_a_real_one_is_kept_as_typed(client, treatment, practitioner):
    days = today(), today() + timedelta(days=2)
    response = client.post(join_url(treatment), join_data(*days, {"last_name": "\u200b\u00a0\u2060"}))
    html = response.content.decode()

    assert response.status_code == 400
    assert html.count("Enter a name with at least one letter") == 2  # in the summary and next to its field
    assert re.search(r'id="error_1_id_last_name"><strong>Enter a name with at least one letter', html)
    for name in ("first_name", "email", "phone"):
        assert f'value="{TYPED[name]}"' in html
    assert not WaitlistEntry.objects.exists()

    response = client.post(join_url(treatment), join_data(*days, {"first_name": " Zoë\u200b", "last_name": "Nguyễn"}))
    assert response.status_code == 303
    assert (WaitlistEntry.objects.get().first_name, WaitlistEntry.objects.get().last_name) == ("Zoë", "Nguyễn")


@pytest.mark.django_db
def test_an_unknown_or_inactive_treatment_has_no_waitlist(client, treatment, practitioner):
    assert client.get("/waitlist/no-such-thing/").status_code == 404
    treatment.active = False
    treatment.save()
    assert client.post(join_url(treatment), join_data(today(), today())).status_code == 404
    assert not WaitlistEntry.objects.exists()


# A time frees up


@pytest.mark.django_db
def test_a_cancelled_time_is_offered_to_the_first_matching_waiting_entry_only(
    treatment, practitioner, day, start, django_capture_on_commit_callbacks, mailoutbox
):
    too_late = entry_create(treatment, date_from=day + timedelta(days=1), date_to=day + timedelta(days=9), name="Late")
    first = entry_create(treatment, date_from=day - timedelta(days=2), date_to=day, name="First")
    second = entry_create(treatment, date_from=day, date_to=day + timedelta(days=1), name="Second")
    appointment = appointment_request(treatment=treatment, start=start, patient=patient())

    with django_capture_on_commit_callbacks(execute=True):
        appointment_transition(appointment=appointment, to_status=AppointmentStatus.CANCELLED_BY_CLINIC)
    queued = DBTaskResult.objects.get(task_path="booking.waitlist.tasks.waitlist_match")
    assert queued.args_kwargs["args"] == [start.isoformat(), practitioner.pk]

    with django_capture_on_commit_callbacks(execute=True):
        waitlist_match.call(*queued.args_kwargs["args"])

    first.refresh_from_db()
    assert first.status == WaitlistStatus.OFFERED
    assert first.offered_start == start
    for other in (too_late, second):
        other.refresh_from_db()
        assert other.status == WaitlistStatus.WAITING
        assert other.offered_start is None
    offer = Message.objects.get(kind=MessageKind.WAITLIST_OFFER)
    assert offer.waitlist_entry == first

    # The email goes to the first patient, with the link that claims the time.
    assert message_send.call(offer.pk) == "sent"
    email = next(mail for mail in mailoutbox if mail.to == ["first@example.com"])
    # The token is signed at sending time: compare what it names, not the second it was signed in.
    assert claim_url(first).split(":")[0] in email.body


@pytest.mark.django_db
def test_an_entry_whose_days_do_not_cover_the_time_is_not_offered_it(treatment, practitioner, day, start):
    before = entry_create(treatment, date_from=day - timedelta(days=3), date_to=day - timedelta(days=1), name="Before")
    after = entry_create(treatment, date_from=day + timedelta(days=1), date_to=day + timedelta(days=3), name="After")

    assert waitlist_time_freed(start=start, practitioner_id=practitioner.pk) is None

    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.WAITING}
    assert not Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).exists()
    assert {before.pk, after.pk} == set(WaitlistEntry.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_time_that_is_not_actually_free_is_not_offered(treatment, practitioner, day, start):
    entry = entry_create(treatment, date_from=day, date_to=day)
    appointment_request(treatment=treatment, start=start, patient=patient())  # someone booked it again already

    assert waitlist_time_freed(start=start, practitioner_id=practitioner.pk) is None
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


@pytest.mark.django_db
def test_running_the_match_twice_offers_the_time_once(treatment, practitioner, day, start):
    first = entry_create(treatment, date_from=day, date_to=day, name="First")
    second = entry_create(treatment, date_from=day, date_to=day, name="Second")

    waitlist_match.call(start.isoformat(), practitioner.pk)
    waitlist_match.call(start.isoformat(), practitioner.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.offered_start) == (WaitlistStatus.OFFERED, start)
    assert second.status == WaitlistStatus.WAITING
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 1


@pytest.mark.django_db
def test_a_patient_holds_one_offer_at_a_time_until_it_lapses(treatment, practitioner, day, start):
    """While the first patient's offer can still be booked, the next freed time goes to the next patient."""
    first = offered(treatment, local(day, 15), name="First")
    second = entry_create(treatment, date_from=day, date_to=day, name="Second")

    assert waitlist_time_freed(start=start, practitioner_id=practitioner.pk) == second

    # The first patient's offered time is taken by someone else: their offer has lapsed.
    appointment_request(treatment=treatment, start=local(day, 15), patient=patient())
    later = local(day, 17)
    assert waitlist_time_freed(start=later, practitioner_id=practitioner.pk) == first
    first.refresh_from_db()
    assert first.offered_start == later


@pytest.mark.django_db
def test_an_expired_entry_is_not_offered_a_time_and_the_command_marks_old_entries(treatment, practitioner, day, start):
    yesterday = today() - timedelta(days=1)
    old_waiting = entry_create(treatment, date_from=yesterday - timedelta(days=5), date_to=yesterday, name="Old")
    old_offered = entry_create(
        treatment,
        date_from=yesterday,
        date_to=yesterday,
        name="Offered",
        status=WaitlistStatus.OFFERED,
        offered_start=local(yesterday, 10),
        offered_at=timezone.now() - timedelta(days=1),
    )
    expired = entry_create(treatment, date_from=day, date_to=day, name="Expired", status=WaitlistStatus.EXPIRED)
    current = entry_create(treatment, date_from=today(), date_to=day, name="Current")

    assert waitlist_time_freed(start=start, practitioner_id=practitioner.pk) == current
    expired.refresh_from_db()
    assert expired.status == WaitlistStatus.EXPIRED

    output = _command_output("waitlist_expire")
    assert output == "2 waitlist entries expired."
    for entry in (old_waiting, old_offered):
        entry.refresh_from_db()
        assert entry.status == WaitlistStatus.EXPIRED
    current.refresh_from_db()
    assert current.status == WaitlistStatus.OFFERED
    assert _command_output("waitlist_expire") == "0 waitlist entries expired."


def _command_output(name):
    from io import StringIO

    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue().strip()


# Claiming


@pytest.mark.django_db
def test_opening_the_claim_link_shows_the_time_and_changes_nothing(client, treatment, practitioner, start):
    entry = offered(treatment, start, name="Claimer")
    response = client.get(claim_url(entry))
    html = response.content.decode()

    assert response.status_code == 200
    local_start = timezone.localtime(start)
    assert f"{local_start:%A} {local_start.day} {local_start:%B %Y} at {local_start:%H:%M}" in html
    assert treatment.name in html
    assert re.search(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"', html)
    assert "Book this time</button>" in html
    assert html.count("<h1") == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_pressing_book_this_time_books_it_once_and_shows_the_confirmation(client, treatment, practitioner, start):
    entry = offered(treatment, start, name="Claimer")
    response = client.post(claim_url(entry))

    assert response.status_code == 303
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.starts_at == start
    assert (appointment.first_name, appointment.email, appointment.phone) == (
        "Claimer",
        "claimer@example.com",
        "+442079460000",
    )
    assert appointment.privacy_notice == entry.privacy_notice
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert entry.appointment == appointment
    assert response["Location"] == reverse(
        "booking:done", kwargs={"token": confirmation_token(appointment=appointment)}
    )
    assert appointment.reference in client.get(response["Location"]).content.decode()

    # A double click, or the link opened again: the same appointment, not a second one.
    # The confirmation's link is signed anew each time: compare what it names, not the second it was signed in.
    again = client.post(claim_url(entry))
    assert again.status_code == 303
    assert signed_value(again["Location"]) == signed_value(response["Location"])
    assert signed_value(client.get(claim_url(entry))["Location"]) == signed_value(response["Location"])
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_claiming_a_time_someone_else_took_answers_409_and_the_entry_waits_again(
    client, treatment, practitioner, start
):
    entry = offered(treatment, start, name="Claimer")
    other = appointment_request(treatment=treatment, start=start, patient=patient())

    assert client.get(claim_url(entry)).status_code == 409
    response = client.post(claim_url(entry))

    assert response.status_code == 409
    assert "Sorry, someone else took this time" in response.content.decode()
    assert list(Appointment.objects.all()) == [other]
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING
    assert entry.offered_start is None


@pytest.mark.django_db
@pytest.mark.parametrize("status", [WaitlistStatus.EXPIRED, WaitlistStatus.WITHDRAWN, WaitlistStatus.WAITING])
def test_an_offer_that_is_no_longer_open_answers_410(client, treatment, practitioner, start, status):
    entry = offered(treatment, start, name="Claimer")
    url = claim_url(entry)
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=status)

    for response in (client.get(url), client.post(url)):
        assert response.status_code == 410
        assert "This offer is no longer open" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_an_offer_replaced_by_a_later_one_answers_410(client, treatment, practitioner, day, start):
    entry = offered(treatment, start, name="Claimer")
    old_url = claim_url(entry)
    WaitlistEntry.objects.filter(pk=entry.pk).update(offered_start=local(day, 16))

    assert client.post(old_url).status_code == 410
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_an_offered_time_now_too_close_to_book_online_answers_410(client, treatment, practitioner):
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2)
    entry = offered(treatment, soon, name="Claimer")

    response = client.post(claim_url(entry))
    assert response.status_code == 410
    assert "too close to book online" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_a_forged_or_garbled_claim_link_answers_404(client, treatment, practitioner, start):
    entry = offered(treatment, start, name="Claimer")
    token = waitlist_claim_token(entry=entry)
    forged = signing.dumps([entry.pk, start.isoformat()], salt="some.other.salt")
    not_a_time = signing.dumps([entry.pk, "yesterday"], salt=WAITLIST_CLAIM_SALT)

    for bad in (token[:-2] + "xx", forged, not_a_time, "garbage"):
        response = client.get(reverse("booking:waitlist_claim", kwargs={"token": bad}))
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    assert client.post(reverse("booking:waitlist_claim", kwargs={"token": forged})).status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED


@pytest.mark.django_db
def test_an_expired_claim_link_answers_410(client, treatment, practitioner, start, monkeypatch):
    entry = offered(treatment, start, name="Claimer")
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: datetime.now().timestamp() - 4 * 24 * 3600)
        old_token = waitlist_claim_token(entry=entry)
    url = reverse("booking:waitlist_claim", kwargs={"token": old_token})

    for response in (client.get(url), client.post(url)):
        assert response.status_code == 410
        assert "Links from the waitlist work for three days" in response.content.decode()
    assert not Appointment.objects.exists()


# Staff


@pytest.mark.django_db
def test_staff_find_entries_by_email_and_cannot_edit_what_the_patient_sent(admin_client, treatment, day):
    entry = entry_create(treatment, date_from=day, date_to=day, name="Findme")
    entry_create(treatment, date_from=day, date_to=day, name="Other")

    changelist = admin_client.get(reverse("admin:booking_waitlistentry_changelist"), {"q": "findme@example"})
    html = changelist.content.decode()
    assert changelist.status_code == 200
    assert "Findme Patient" in html
    assert "Other Patient" not in html

    change = admin_client.get(reverse("admin:booking_waitlistentry_change", args=[entry.pk])).content.decode()
    for field in ("first_name", "email", "phone", "status"):
        assert f'name="{field}"' not in change
    assert "findme@example.com" in change


# Two patients, one freed time


def http_request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def claim_session(server, path):
    """One patient's browser: the claim page's CSRF cookie and token."""
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        html = response.read().decode()
        assert response.status == 200
        cookie = SimpleCookie()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie.load(value)
    finally:
        connection.close()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie["csrftoken"].value, token


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_claims_of_one_freed_time_leave_exactly_one_appointment(
    live_server, clinic_content, working_every_day
):
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, name="Dr Only One")
    start = local(today() + timedelta(days=3), 10)
    entries = [offered(treatment, start, name=name) for name in ("Anna", "Boris")]
    server = urlparse(live_server.url)
    paths = [claim_url(entry) for entry in entries]
    sessions = [claim_session(server, path) for path in paths]
    barrier = threading.Barrier(len(entries))

    def claim(index):
        cookie, token = sessions[index]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": live_server.url + paths[index],
        }
        barrier.wait()
        return http_request(server, "POST", paths[index], body=f"csrfmiddlewaretoken={token}", headers=headers)

    with ThreadPoolExecutor(max_workers=len(entries)) as pool:
        responses = list(pool.map(claim, range(len(entries))))

    statuses = sorted(status for status, _ in responses)
    assert statuses == [303, 409], statuses
    loser_html = next(html for status, html in responses if status == 409)
    assert "Sorry, someone else took this time" in loser_html
    appointment = Appointment.objects.get()
    assert appointment.starts_at == start
    by_status = {entry.status: entry for entry in WaitlistEntry.objects.all()}
    assert set(by_status) == {WaitlistStatus.BOOKED, WaitlistStatus.WAITING}
    assert by_status[WaitlistStatus.BOOKED].appointment == appointment
    assert appointment.first_name == by_status[WaitlistStatus.BOOKED].first_name


# An unclaimed offer goes round the waitlist


def cascade_task(start):
    """The follow-up queued with an offer, run when its window closes; None once none is queued."""
    return (
        DBTaskResult.objects.filter(
            task_path="booking.waitlist.tasks.waitlist_match", args_kwargs__args__0=start.isoformat()
        )
        .order_by("-enqueued_at")
        .first()
    )


@pytest.mark.django_db
def test_an_unclaimed_offer_goes_to_the_next_patient_when_its_window_closes(
    client, treatment, practitioner, day, start, monkeypatch, settings
):
    settings.CLINIC_WAITLIST_OFFER_HOURS = 2
    first = entry_create(treatment, date_from=day, date_to=day, name="First")
    second = entry_create(treatment, date_from=day, date_to=day, name="Second")

    assert waitlist_time_freed(start=start, practitioner_id=practitioner.pk) == first
    first.refresh_from_db()
    first_link = claim_url(first)
    window_closes = first.offered_at + timedelta(hours=2)
    task = cascade_task(start)
    assert task.run_after == window_closes  # the time does not stay empty if nobody answers
    offer = Message.objects.get(kind=MessageKind.WAITLIST_OFFER, waitlist_entry=first)
    assert message_send.call(offer.pk) == "sent"
    assert f"claim until {timezone.localtime(window_closes):%A} " in mail_body(offer)

    # Before the window closes the follow-up changes nothing: the first patient may still claim it.
    clock_at(monkeypatch, window_closes - timedelta(minutes=1))
    assert waitlist_match.call(*task.args_kwargs["args"]) is None
    assert client.get(first_link).status_code == 200

    clock_at(monkeypatch, window_closes + timedelta(seconds=1))
    assert waitlist_match.call(*task.args_kwargs["args"]) == second.pk

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.offered_start) == (WaitlistStatus.WAITING, None)
    assert (second.status, second.offered_start) == (WaitlistStatus.OFFERED, start)
    for response in (client.get(first_link), client.post(first_link)):
        assert response.status_code == 410
        assert "it has gone to the next patient on the waitlist" in response.content.decode()
    assert not Appointment.objects.exists()

    # The second patient does not answer either, and nobody else waits: the time is offered to no one twice.
    clock_at(monkeypatch, second.offered_at + timedelta(hours=2, seconds=1))
    assert waitlist_match.call(*cascade_task(start).args_kwargs["args"]) is None
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 2
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.WAITING}


def mail_body(message):
    from django.core import mail

    return next(email.body for email in reversed(mail.outbox) if email.to == [message.waitlist_entry.email])


@pytest.mark.django_db
def test_a_claimed_offer_is_not_passed_on(client, treatment, practitioner, day, start, monkeypatch):
    first = entry_create(treatment, date_from=day, date_to=day, name="First")
    entry_create(treatment, date_from=day, date_to=day, name="Second")
    waitlist_time_freed(start=start, practitioner_id=practitioner.pk)
    first.refresh_from_db()
    assert client.post(claim_url(first)).status_code == 303

    clock_at(monkeypatch, first.offered_at + timedelta(hours=3))
    assert waitlist_match.call(*cascade_task(start).args_kwargs["args"]) is None
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 1


@pytest.mark.django_db
def test_a_time_too_close_to_book_online_is_offered_no_further(treatment, practitioner, monkeypatch):
    start = local(today() + timedelta(days=3), 10)
    first = entry_create(
        treatment, date_from=timezone.localdate(start), date_to=timezone.localdate(start), name="First"
    )
    entry_create(treatment, date_from=timezone.localdate(start), date_to=timezone.localdate(start), name="Second")
    waitlist_time_freed(start=start, practitioner_id=practitioner.pk)
    first.refresh_from_db()

    clock_at(monkeypatch, start - timedelta(minutes=30))  # the window passed; the visit is too near now
    assert waitlist_match.call(*cascade_task(start).args_kwargs["args"]) is None
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 1


def test_the_window_to_claim_is_shorter_when_the_visit_is_close(settings):
    from booking.waitlist.services import offer_window

    settings.CLINIC_WAITLIST_OFFER_HOURS = 2
    now = timezone.now()
    assert offer_window(start=now + timedelta(days=3), offered_at=now) == timedelta(hours=2)
    assert offer_window(start=now + timedelta(hours=4), offered_at=now) == timedelta(hours=1)
    assert offer_window(start=now + timedelta(minutes=30), offered_at=now) == timedelta(minutes=15)


@pytest.mark.django_db(transaction=True)
def test_a_late_claim_racing_the_offer_passing_on_never_books_for_the_patient_whose_window_closed(
    live_server, clinic_content, working_every_day, monkeypatch
):
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, name="Dr Only One")
    day = today() + timedelta(days=3)
    start = local(day, 10)
    first = entry_create(treatment, date_from=day, date_to=day, name="Anna")
    second = entry_create(treatment, date_from=day, date_to=day, name="Boris")
    waitlist_time_freed(start=start, practitioner_id=None)
    first.refresh_from_db()
    server = urlparse(live_server.url)
    path = claim_url(first)
    cookie, token = claim_session(server, path)  # the page opened in time; the button pressed too late

    clock_at(monkeypatch, first.offered_at + timedelta(hours=2, seconds=1))
    barrier = threading.Barrier(2)

    def late_claim():
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": live_server.url + path,
        }
        barrier.wait()
        return http_request(server, "POST", path, body=f"csrfmiddlewaretoken={token}", headers=headers)[0]

    def pass_on():
        barrier.wait()
        try:
            return waitlist_match.call(start.isoformat(), None)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        claimed, passed = pool.submit(late_claim), pool.submit(pass_on)
        assert claimed.result() == 410
        assert passed.result() == second.pk

    assert not Appointment.objects.exists()
    second.refresh_from_db()
    assert (second.status, second.offered_start) == (WaitlistStatus.OFFERED, start)
    second_path = claim_url(second)
    cookie, token = claim_session(server, second_path)
    status, _ = http_request(
        server,
        "POST",
        second_path,
        body=f"csrfmiddlewaretoken={token}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": live_server.url + second_path,
        },
    )
    assert status == 303
    assert Appointment.objects.get().first_name == "Boris"
