"""The patient's booking path: choose a treatment, a free time, give details, see the reference."""

import io
import re
import uuid
from datetime import time, timedelta

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from booking.appointments import services as appointment_services
from booking.links import CONFIRMATION_SALT, confirmation_token
from booking.models import Appointment, AppointmentStatus, Practitioner, Treatment, WorkingHours
from booking.requests import forms as booking_forms
from booking.requests.botcheck import form_token, form_token_read
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import PrivacyNotice
from tests.factories import answers_fine, appointment_at

pytestmark = pytest.mark.django_db

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "Please call after 5pm.",
    "first_visit": "yes",
    "consent": "on",
}


@pytest.fixture
def treatment():
    treatment = Treatment.objects.get(slug="hair-loss")
    treatment.before_visit = "Apply numbing cream thirty minutes before, if you want it."
    treatment.save()
    return treatment


@pytest.fixture
def other_practitioner(treatment, working_every_day):
    """Active, but does not give the treatment being booked."""
    return working_every_day(name="Dr Other", only=False)


def upcoming_slots(treatment, practitioner=None):
    today = first_day_today()
    return free_slots(
        treatment=treatment, first_day=today, last_day=today + timedelta(days=7), practitioner=practitioner
    )


@pytest.fixture
def slot(treatment, practitioner):
    return upcoming_slots(treatment)[0]


def times_url(treatment):
    return reverse("booking:times", kwargs={"treatment_slug": treatment.slug})


def details_url(treatment):
    return reverse("booking:details", kwargs={"treatment_slug": treatment.slug})


def form_data(start, **changes):
    data = {
        "start": start_format(start),
        "practitioner": "any",
        "started": form_token(),
        **TYPED,
        **answers_fine(),
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def radio_values(html):
    return re.findall(r'type="radio" name="start" id="[^"]+" value="([^"]+)"', html)


def assert_typed_values_kept(html, **except_fields):
    for name in ("first_name", "last_name", "email", "phone"):
        if name not in except_fields:
            assert f'value="{TYPED[name]}"' in html, name
    if "message" not in except_fields:
        assert TYPED["message"] in html


# Step 1: the treatment


def test_choose_page_links_to_each_active_treatments_times(client, practitioner):
    html = client.get(reverse("booking:book")).content.decode()
    for treatment in Treatment.objects.active():
        assert f'href="{times_url(treatment)}"' in html
    assert html.count("<h1") == 1


def test_link_from_a_treatment_page_goes_straight_to_its_times(client, treatment, practitioner):
    response = client.get(reverse("booking:book"), {"treatment": treatment.slug}, follow=True)
    assert response.redirect_chain == [(times_url(treatment), 302)]
    assert f"Choose a time for {treatment.name}" in response.content.decode()


def test_link_naming_an_unknown_treatment_says_so_and_lists_the_real_ones(client, treatment):
    response = client.get(reverse("booking:book"), {"treatment": "no-such-thing"})
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that treatment" in html
    assert f'href="{times_url(treatment)}"' in html


def test_unknown_treatment_in_the_address_is_not_found(client, practitioner):
    assert client.get("/book/no-such-thing/").status_code == 404
    assert client.get("/book/no-such-thing/details/").status_code == 404


def test_inactive_treatment_cannot_be_booked(client, treatment, slot):
    treatment.active = False
    treatment.save()
    response = client.post(details_url(treatment), form_data(slot.start))
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def practitioners_on_page(client, treatment):
    """The treatment page's "Who gives this treatment" section, or None when it has none."""
    response = client.get(reverse("booking:treatment", kwargs={"slug": treatment.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<section aria-labelledby="practitioners-heading">(.*?)</section>', html, re.S)
    return match[1] if match else None


def png_file(name, width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=name)


def test_treatment_page_shows_who_gives_it_with_name_bio_and_photo(client, treatment):
    Practitioner.objects.update(active=False)
    ada = Practitioner.objects.create(
        name="Dr Ada Test",
        bio="Ten years of mesotherapy.\n\nTrained in Milan.",
        image=png_file("ada.png", 300, 400),
        image_alt="Dr Ada Test in the treatment room",
        position=1,
    )
    ben = Practitioner.objects.create(name="Nurse Ben Test", bio="Our nurse practitioner.", position=0)
    ada.treatments.add(treatment)
    ben.treatments.add(treatment)

    section = practitioners_on_page(client, treatment)

    assert '<h2 id="practitioners-heading">Who gives this treatment</h2>' in section
    names = re.findall(r"<h3[^>]*>(.*?)</h3>", section)
    assert names == ["Nurse Ben Test", "Dr Ada Test"]  # in staff order
    assert "<p>Ten years of mesotherapy.</p>" in section and "<p>Trained in Milan.</p>" in section
    assert "<p>Our nurse practitioner.</p>" in section
    [photo] = re.findall(r"<img [^>]*>", section)  # Ben has none, and no empty image stands in
    assert f'src="{ada.image.url}"' in photo
    assert 'width="300" height="400"' in photo
    assert 'alt="Dr Ada Test in the treatment room"' in photo


def test_treatment_page_leaves_out_inactive_practitioners_and_those_not_giving_it(client, treatment):
    Practitioner.objects.update(active=False)
    other_treatment = Treatment.objects.active().exclude(pk=treatment.pk).first()
    Practitioner.objects.create(name="Dr Gives It").treatments.add(treatment)
    Practitioner.objects.create(name="Dr Retired", active=False).treatments.add(treatment)
    Practitioner.objects.create(name="Dr Other Treatment").treatments.add(other_treatment)

    section = practitioners_on_page(client, treatment)

    assert re.findall(r"<h3[^>]*>(.*?)</h3>", section) == ["Dr Gives It"]
    assert "Dr Other Treatment" in practitioners_on_page(client, other_treatment)


def test_treatment_page_with_nobody_giving_it_has_no_empty_practitioners_section(client, treatment):
    Practitioner.objects.update(active=False)
    assert practitioners_on_page(client, treatment) is None


# Step 2: the times


def test_times_page_lists_free_times_as_a_labelled_radio_group_and_hides_taken_ones(client, treatment, practitioner):
    slots = upcoming_slots(treatment)
    first = slots[0]
    appointment_at(first.start, treatment=treatment, practitioner=practitioner)
    second = next(s for s in slots if s.start >= first.start + treatment.duration + treatment.buffer)

    response = client.get(times_url(treatment))
    html = response.content.decode()

    assert response.status_code == 200
    values = radio_values(html)
    assert start_format(first.start) not in values
    assert start_format(second.start) in values
    local = timezone.localtime(second.start)
    assert re.search(rf'for="start-[^"]+">{local:%H:%M}</label>', html)
    assert f'<legend class="time-day-legend">{local:%A} {local.day} {local:%B}</legend>' in html
    assert f"about {treatment.duration_minutes} minutes" in html
    assert f'action="{details_url(treatment)}"' in html


def test_times_are_never_offered_before_the_minimum_notice(client, treatment, practitioner):
    html = client.get(times_url(treatment)).content.decode()
    earliest = timezone.now() + timedelta(hours=12)
    for value in radio_values(html):
        assert booking_forms.start_parse(value) >= earliest


def test_times_page_offers_later_and_earlier_periods_but_not_before_today(client, treatment, practitioner):
    html = client.get(times_url(treatment)).content.decode()
    assert "Later times" in html
    assert "Earlier times" not in html

    later = first_day_today() + timedelta(days=14)
    html = client.get(times_url(treatment), {"from": later.isoformat()}).content.decode()
    assert "Earlier times" in html
    values = radio_values(html)
    assert values
    assert all(timezone.localtime(booking_forms.start_parse(v)).date() >= later for v in values)

    html = client.get(times_url(treatment), {"from": "2001-01-01"}).content.decode()
    assert "Earlier times" not in html


def test_times_page_never_goes_past_the_booking_horizon(client, treatment, practitioner):
    far = first_day_today() + timedelta(days=400)
    html = client.get(times_url(treatment), {"from": far.isoformat()}).content.decode()
    horizon = timezone.now() + timedelta(days=60)
    assert "Later times" not in html
    assert all(booking_forms.start_parse(v) <= horizon for v in radio_values(html))


def test_times_page_says_so_when_a_period_has_no_free_times(client, treatment, practitioner):
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    html = client.get(times_url(treatment)).content.decode()
    assert "There are no free times in these days." in html
    assert "See the next week" in html
    assert not radio_values(html)


def test_a_named_practitioner_shows_only_their_times(client, treatment, practitioner):
    colleague = Practitioner.objects.create(name="Dr Late Shift")
    colleague.treatments.add(treatment)
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=colleague, weekday=day, start_time=time(20), end_time=time(22)) for day in range(7)
    )
    everyone = radio_values(client.get(times_url(treatment)).content.decode())
    html = client.get(times_url(treatment), {"practitioner": colleague.pk}).content.decode()
    theirs = radio_values(html)

    assert "Any practitioner" in html
    assert f'<option value="{colleague.pk}" selected>Dr Late Shift</option>' in html
    assert theirs
    assert set(theirs) < set(everyone)
    assert all(timezone.localtime(booking_forms.start_parse(v)).hour >= 20 for v in theirs)
    assert f'name="practitioner" value="{colleague.pk}"' in html


def test_a_practitioner_who_does_not_give_the_treatment_cannot_filter_its_times(
    client, treatment, practitioner, other_practitioner
):
    response = client.get(times_url(treatment), {"practitioner": other_practitioner.pk})
    assert response.status_code == 400
    assert "does not give" in response.content.decode()


# Step 3: the details


def test_details_page_shows_the_chosen_time_in_the_clinic_zone(client, treatment, slot):
    response = client.get(details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"})
    html = response.content.decode()
    local = timezone.localtime(slot.start)

    assert response.status_code == 200
    assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in html
    assert treatment.name in html
    assert "Change the time" in html
    assert form_token_read(re.search(r'name="started" value="([^"]+)"', html).group(1)) is not None
    assert 'href="/privacy/"' in html or f'href="{reverse("privacy")}"' in html
    assert html.count("<h1") == 1


def test_changing_the_time_goes_back_to_the_times_with_the_chosen_one_selected(client, treatment, slot):
    html = client.get(
        details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"}
    ).content.decode()
    change = re.search(r'<a href="([^"]+)">Change the time</a>', html).group(1).replace("&amp;", "&")
    times_html = client.get(change).content.decode()
    assert f'value="{start_format(slot.start)}" checked>' in times_html


def test_choosing_no_time_shows_the_times_again_with_a_problem(client, treatment, slot):
    response = client.get(details_url(treatment), {"practitioner": "any"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert "There is a problem" in html
    assert "Choose a time." in html
    assert radio_values(html)


def test_choosing_a_time_taken_since_the_times_page_loaded_says_so(client, treatment, practitioner, slot):
    appointment_at(slot.start, treatment=treatment, practitioner=practitioner)
    response = client.get(details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"})
    html = response.content.decode()
    assert response.status_code == 409
    assert "just taken" in html
    assert start_format(slot.start) not in radio_values(html)
    assert radio_values(html)


@pytest.mark.parametrize("start", ["garbage", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+05:00", "2001-01-01T09:00Z"])
def test_choosing_an_impossible_time_shows_the_times_again(client, treatment, slot, start):
    response = client.get(details_url(treatment), {"start": start, "practitioner": "any"})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert radio_values(response.content.decode())


def test_each_details_page_load_gets_a_new_submission_key(client, treatment, slot):
    query = {"start": start_format(slot.start), "practitioner": "any"}
    token = re.compile(r'name="started" value="([^"]+)"')
    first = token.search(client.get(details_url(treatment), query).content.decode()).group(1)
    second = token.search(client.get(details_url(treatment), query).content.decode()).group(1)
    assert form_token_read(first).key != form_token_read(second).key


# Step 3, sent


def test_a_complete_request_creates_one_requested_appointment_and_shows_its_reference(client, treatment, slot):
    notice = PrivacyNotice.objects.current()
    before = timezone.now()
    response = client.post(details_url(treatment), form_data(slot.start))

    assert response.status_code in (302, 303)
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.starts_at == slot.start
    assert appointment.treatment == treatment
    assert appointment.phone == "+442079460000"
    assert appointment.first_name == "Ada"
    assert appointment.email == "ada@example.com"
    assert appointment.message == "Please call after 5pm."
    assert appointment.first_visit is True
    assert appointment.consent_at >= before
    assert appointment.privacy_notice == notice
    assert appointment.privacy_notice.version == notice.version
    assert appointment.events.get().to_status == AppointmentStatus.REQUESTED

    page = client.get(response["Location"])
    html = page.content.decode()
    local = timezone.localtime(slot.start)
    assert page.status_code == 200
    assert f'class="booking-reference">{appointment.reference}<' in html
    assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in html
    assert "Dr Ada Test" in html
    # A first booking from this device: the patient is asked to confirm the address first.
    expires = timezone.localtime(appointment.expires_at)
    assert f"follow it by {expires:%H:%M} to confirm your address and keep this time" in html
    assert "Apply numbing cream thirty minutes before" in html


def test_a_request_for_a_named_practitioner_books_them(client, treatment, slot, practitioner):
    response = client.post(details_url(treatment), form_data(slot.start, practitioner=str(practitioner.pk)))
    assert response.status_code in (302, 303)
    assert Appointment.objects.get().practitioner == practitioner


def test_the_not_first_visit_answer_is_kept(client, treatment, slot):
    client.post(details_url(treatment), form_data(slot.start, first_visit="no"))
    assert Appointment.objects.get().first_visit is False


def test_a_double_submit_creates_one_appointment_and_both_land_on_its_confirmation(client, treatment, slot):
    data = form_data(slot.start)
    first = client.post(details_url(treatment), data)
    second = client.post(details_url(treatment), data)

    assert Appointment.objects.count() == 1
    assert first.status_code == second.status_code == 303
    reference = Appointment.objects.get().reference
    assert reference in client.get(first["Location"]).content.decode()
    assert reference in client.get(second["Location"]).content.decode()


def test_a_time_taken_meanwhile_answers_409_keeps_the_details_and_offers_the_nearest_times(
    client, treatment, practitioner, slot
):
    appointment_at(slot.start, treatment=treatment, practitioner=practitioner)
    response = client.post(details_url(treatment), form_data(slot.start))
    html = response.content.decode()

    assert response.status_code == 409
    assert "just taken" in html
    assert Appointment.objects.count() == 1
    assert_typed_values_kept(html)
    nearest = radio_values(html)
    assert nearest
    assert start_format(slot.start) not in nearest

    # The patient picks one of the nearest times and sends the same form again.
    retry = client.post(details_url(treatment), form_data(booking_forms.start_parse(nearest[0])))
    assert retry.status_code == 303
    assert Appointment.objects.filter(first_name="Ada").get().starts_at == booking_forms.start_parse(nearest[0])


def test_a_time_taken_in_the_last_instant_before_saving_answers_409(client, treatment, practitioner, slot, monkeypatch):
    """The race the database settles: the booking's own check found the time free, then another request won."""
    appointment_at(slot.start, treatment=treatment, practitioner=practitioner)
    monkeypatch.setattr(appointment_services, "practitioners_free_at", lambda **kwargs: [practitioner.pk])

    response = client.post(details_url(treatment), form_data(slot.start))
    html = response.content.decode()

    assert response.status_code == 409
    assert "just taken" in html
    assert Appointment.objects.count() == 1
    assert_typed_values_kept(html)
    assert radio_values(html)


def test_a_taken_time_and_a_missing_name_are_both_reported_at_once(client, treatment, practitioner, slot):
    appointment_at(slot.start, treatment=treatment, practitioner=practitioner)
    response = client.post(details_url(treatment), form_data(slot.start, first_name=""))
    html = response.content.decode()

    assert response.status_code == 409
    assert "just taken" in html
    assert "Enter your first name." in html
    assert_typed_values_kept(html, first_name=True)
    assert Appointment.objects.count() == 1


def test_a_time_that_was_never_on_offer_is_refused_with_its_own_message(client, treatment, practitioner, slot):
    # Two days on, at 03:00 in the clinic's zone: inside the booking window, outside 08:00-20:00.
    closed = timezone.localtime(slot.start + timedelta(days=2)).replace(hour=3, minute=0)
    response = client.post(details_url(treatment), form_data(closed))

    assert response.status_code == 400
    assert "That time is not available. Please choose another time." in response.content.decode()
    assert Appointment.objects.count() == 0


def test_a_cancelled_appointment_does_not_hold_its_time(client, treatment, practitioner, slot):
    appointment_at(
        slot.start, treatment=treatment, practitioner=practitioner, status=AppointmentStatus.CANCELLED_BY_PATIENT
    )
    response = client.post(details_url(treatment), form_data(slot.start))
    assert response.status_code == 303
    assert Appointment.objects.active().get().first_name == "Ada"


def past(slot):
    return slot.start - timedelta(days=30)


BAD_TIME_AND_HIDDEN_FIELDS = {
    "past time": (lambda slot, other: {"start": start_format(past(slot))}, "already passed"),
    "time within the minimum notice": (
        lambda slot, other: {"start": start_format((timezone.now() + timedelta(hours=1)).replace(microsecond=0))},
        "at least 12 hours ahead",
    ),
    "time beyond the horizon": (
        lambda slot, other: {"start": start_format(slot.start + timedelta(days=90))},
        "up to 60 days ahead",
    ),
    "time outside working hours": (
        lambda slot, other: {"start": start_format(slot.start + timedelta(minutes=7))},
        "not available",
    ),
    "garbage start": (lambda slot, other: {"start": "<script>alert(1)</script>"}, "could not read the chosen time"),
    "start without a zone": (lambda slot, other: {"start": "2026-12-01T09:30:00"}, "could not read the chosen time"),
    "start at the end of time": (lambda slot, other: {"start": "9999-12-31T23:59:59-05:00"}, "could not read"),
    "start far beyond the horizon": (lambda slot, other: {"start": "9999-12-31T23:00:00Z"}, "up to 60 days ahead"),
    "missing start": (lambda slot, other: {"start": None}, "Choose a time."),
    "practitioner not giving the treatment": (
        lambda slot, other: {"practitioner": str(other.pk)},
        "does not give",
    ),
    "practitioner garbage": (lambda slot, other: {"practitioner": "1 OR 1=1"}, "does not give"),
    "form token garbage": (lambda slot, other: {"started": "not-a-token"}, "could not accept the form"),
    "form token unsigned": (lambda slot, other: {"started": str(uuid.uuid4())}, "could not accept the form"),
}


@pytest.mark.parametrize("case", BAD_TIME_AND_HIDDEN_FIELDS, ids=list(BAD_TIME_AND_HIDDEN_FIELDS))
def test_a_bad_time_or_tampered_hidden_field_creates_nothing_and_keeps_the_details(
    client, treatment, slot, other_practitioner, case
):
    changes, message = BAD_TIME_AND_HIDDEN_FIELDS[case]
    data = form_data(slot.start)
    data.update(changes(slot, other_practitioner))
    response = client.post(details_url(treatment), {name: value for name, value in data.items() if value is not None})
    html = response.content.decode()

    assert response.status_code == 400
    assert not Appointment.objects.exists()
    assert re.search(message, html)
    assert 'role="alert"' in html
    assert "There is a problem" in html
    assert_typed_values_kept(html)
    assert "<script>alert(1)</script>" not in html


NO_LETTER = "Enter a name with at least one letter: spaces and invisible characters alone do not count."
BAD_PATIENT_FIELDS = {
    "malformed email": ("email", "ada@", "Enter an email address like name@example.com.", "id_email"),
    "malformed phone": ("phone", "12345", "Enter a phone number we can call", "id_phone"),
    "phone that is not a number": ("phone", "call me maybe", "Enter a phone number we can call", "id_phone"),
    "oversized first name": ("first_name", "A" * 101, "at most 100 characters", "id_first_name"),
    "oversized message": ("message", "M" * 2001, "at most 2000 characters", "id_message"),
    "missing consent": ("consent", None, "Tick the box to agree to the privacy notice", "id_consent"),
    "missing first name": ("first_name", "", "Enter your first name.", "id_first_name"),
    "missing first visit answer": ("first_visit", None, "Say whether this is your first visit.", "id_first_visit_0"),
    # Staff would see a blank name: these look empty, and none has a letter.
    "first name of zero-width spaces": ("first_name", "\u200b\u200b", NO_LETTER, "id_first_name"),
    "last name of no-break and zero-width spaces": ("last_name", "\u00a0\u200b\u00a0", NO_LETTER, "id_last_name"),
    "first name of control and format characters": ("first_name", "\x07\u202e\u2060\ufeff", NO_LETTER, "id_first_name"),
    "last name of a Hangul filler": ("last_name", "\u3164", NO_LETTER, "id_last_name"),
    "first name over two lines": ("first_name", "Ann\nSmith", booking_forms.NAME_CONTROL, "id_first_name"),
    "last name with a tab": ("last_name", "Love\tlace", booking_forms.NAME_CONTROL, "id_last_name"),
}


@pytest.mark.parametrize("case", BAD_PATIENT_FIELDS, ids=list(BAD_PATIENT_FIELDS))
def test_bad_patient_details_are_refused_next_to_the_field_and_in_the_summary(client, treatment, slot, case):
    field, value, message, anchor = BAD_PATIENT_FIELDS[case]
    response = client.post(details_url(treatment), form_data(slot.start, **{field: value}))
    html = response.content.decode()

    assert response.status_code == 400
    assert not Appointment.objects.exists()
    assert message in html
    assert re.search(rf'<a href="#{anchor}">[^<]*{re.escape(message[:20])}', html)  # the summary links to the field
    next_to_field = (
        rf'<(p|span) id="error_1_{re.escape(anchor.removesuffix("_0"))}"><strong>[^<]*{re.escape(message[:20])}'
    )
    assert re.search(next_to_field, html)
    assert_typed_values_kept(html, **{field: True})
    # The chosen time stays chosen: no need to pick it again.
    assert f'name="start" value="{start_format(slot.start)}"' in html


@pytest.mark.parametrize("name", ["Zoë", "O'Brien", "José-María", "李", "Nguyễn"])
def test_real_names_are_booked_without_the_invisible_characters_around_them(client, treatment, slot, name):
    data = form_data(slot.start, first_name=f"\u200b {name}\u00a0", last_name=f"\ufeff{name}\u200f")
    response = client.post(details_url(treatment), data)

    assert response.status_code == 303
    appointment = Appointment.objects.get()
    assert (appointment.first_name, appointment.last_name) == (name, name)


def test_a_form_without_its_csrf_token_is_refused_with_a_friendly_page(treatment, slot):
    client = Client(enforce_csrf_checks=True)
    response = client.post(details_url(treatment), form_data(slot.start))
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_steps_refuse_methods_they_do_not_take(client, treatment, slot):
    assert client.put(details_url(treatment)).status_code == 405
    assert client.post(times_url(treatment)).status_code == 405


# Step 4: the confirmation link


def test_a_forged_or_garbled_confirmation_link_is_not_found(client, treatment, slot):
    client.post(details_url(treatment), form_data(slot.start))
    appointment = Appointment.objects.get()
    forged = signing.dumps(appointment.reference, salt="some.other.purpose")
    for token in (forged, "garbage", confirmation_token(appointment=appointment)[:-2] + "xx"):
        response = client.get(reverse("booking:done", kwargs={"token": token}))
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
        assert appointment.reference not in response.content.decode()


def test_a_confirmation_link_expires_after_thirty_days(client, treatment, slot, monkeypatch):
    client.post(details_url(treatment), form_data(slot.start))
    appointment = Appointment.objects.get()
    old_now = timezone.now().timestamp() - 31 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: old_now)
    token = signing.dumps(appointment.reference, salt=CONFIRMATION_SALT)
    monkeypatch.undo()

    response = client.get(reverse("booking:done", kwargs={"token": token}))
    assert response.status_code == 404
