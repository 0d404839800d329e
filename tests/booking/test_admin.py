import re
import uuid
from datetime import datetime, time, timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

import booking.appointments.services
import booking.requests.forms
from booking.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    MessageKind,
    Practitioner,
    Treatment,
)
from booking.requests.forms import start_format
from booking.schedule.availability import free_slots, practitioners_free_at
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

TAKEN = "This time has just been taken"


def next_weekday(weekday, *, at_least_days=3):
    """A local date on ``weekday`` far enough ahead to be bookable under the default rules."""
    day = timezone.localdate() + timedelta(days=at_least_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def practitioner_data(treatment, hours):
    data = {
        "name": "Dr Lena Park",
        "bio": "",
        "treatments": [treatment.pk],
        "position": "1",
        "active": "on",
        "image_alt_en_gb": "",
        "working_hours-TOTAL_FORMS": str(len(hours)),
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
    }
    for index, (weekday, start, end) in enumerate(hours):
        data[f"working_hours-{index}-weekday"] = str(weekday)
        data[f"working_hours-{index}-start_time"] = start
        data[f"working_hours-{index}-end_time"] = end
    return data


def local_times(slots):
    return [slot.local_start.time() for slot in slots]


def test_staff_add_working_hours_with_a_lunch_break(admin_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    hours = [(0, "09:00", "12:00"), (0, "13:00", "17:00"), (1, "12:00", "13:00")]
    response = admin_client.post(reverse("admin:booking_practitioner_add"), practitioner_data(treatment, hours))
    assert response.status_code == 302

    practitioner = Practitioner.objects.get(name="Dr Lena Park")
    assert [str(wh) for wh in practitioner.working_hours.all()] == [
        "Monday 09:00–12:00",
        "Monday 13:00–17:00",
        "Tuesday 12:00–13:00",
    ]
    monday = next_weekday(0)
    times = local_times(free_slots(treatment=treatment, first_day=monday, last_day=monday, practitioner=practitioner))
    assert time(9) in times and time(13) in times
    assert not [t for t in times if time(11, 15) < t < time(13)]  # a 45-minute visit ends by 12:00


def test_overlapping_ranges_on_one_weekday_are_refused_with_a_message(admin_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    hours = [(0, "09:00", "13:00"), (0, "12:00", "17:00")]
    response = admin_client.post(reverse("admin:booking_practitioner_add"), practitioner_data(treatment, hours))

    assert response.status_code == 200
    assert "Monday 09:00–13:00 overlaps Monday 12:00–17:00." in response.content.decode()
    assert not Practitioner.objects.filter(name="Dr Lena Park").exists()


def test_working_hours_that_end_before_they_start_are_refused(admin_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    response = admin_client.post(
        reverse("admin:booking_practitioner_add"), practitioner_data(treatment, [(2, "17:00", "09:00")])
    )
    assert response.status_code == 200
    assert "The working hours must end after they start." in response.content.decode()
    assert not Practitioner.objects.filter(name="Dr Lena Park").exists()


def test_a_whole_clinic_closure_saved_in_admin_removes_those_free_times(admin_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    monday = next_weekday(0)
    before = local_times(free_slots(treatment=treatment, first_day=monday, last_day=monday))
    assert time(10) in before and time(11) in before

    response = admin_client.post(
        reverse("admin:booking_closure_add"),
        {
            "practitioner": "",
            "starts_at_0": monday.isoformat(),
            "starts_at_1": "10:00",
            "ends_at_0": monday.isoformat(),
            "ends_at_1": "12:30",
            "reason": "Fire drill",
        },
    )
    assert response.status_code == 302
    assert Closure.objects.get(reason="Fire drill").practitioner is None

    after = local_times(free_slots(treatment=treatment, first_day=monday, last_day=monday))
    assert [t for t in after if t < time(13)] == [time(9)]  # 09:00 + visit + buffer ends at 10:00
    assert time(13, 30) in after
    changelist = admin_client.get(reverse("admin:booking_closure_changelist")).content.decode()
    assert "Whole clinic" in changelist and "Fire drill" in changelist


@pytest.fixture
def booked():
    """An appointment held on a weekday morning, and the treatment and practitioner it uses."""
    return appointment_at(
        local(next_weekday(2), 10),
        treatment=Treatment.objects.get(slug="hair-loss"),
        practitioner=Practitioner.objects.get(),
        reference="HELD2345",
        history=True,
        first_name="Maya",
        last_name="Holt",
        email="maya@example.com",
        phone="+447700900123",
    )


def phone_booking(client, booked, start, **changes):
    """Reception books Tom Reyes by phone with the practitioner of the held visit ("Book for a patient")."""
    url = reverse("admin:booking_appointment_book")
    query = f"?treatment={booked.treatment.pk}&practitioner={booked.practitioner.pk}"
    data = {
        "start": start_format(start),
        "practitioner": str(booked.practitioner.pk),
        "submission_key": str(uuid.uuid4()),
        "first_name": "Tom",
        "last_name": "Reyes",
        "email": "tom@example.com",
        "phone": "020 7946 0456",
        "language": "en-gb",
        "first_visit": "yes",
        "message": "",
        "told_privacy": "on",
        **changes,
    }
    return client.post(url + query, data)


def test_the_plain_add_page_sends_staff_to_book_for_a_patient(admin_client, booked):
    book_url = reverse("admin:booking_appointment_book")
    add_url = reverse("admin:booking_appointment_add")

    response = admin_client.get(add_url)
    assert response.status_code == 302 and response["Location"] == book_url
    posted = admin_client.post(add_url, {"treatment": booked.treatment.pk, "last_name": "Reyes"})
    assert posted.status_code == 302 and posted["Location"] == book_url
    assert not Appointment.objects.filter(last_name="Reyes").exists()

    for page in (reverse("admin:booking_appointment_changelist"), reverse("admin:index")):
        html = admin_client.get(page).content.decode()
        assert f'href="{book_url}"' in html and "Book for a patient" in html, page
        assert f'href="{add_url}"' not in html, page


def test_staff_book_an_appointment_by_phone_with_its_history(admin_client, booked):
    start = booked.blocked_until  # right after the held visit and its buffer
    response = phone_booking(admin_client, booked, start)

    added = Appointment.objects.get(last_name="Reyes")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:booking_appointment_change", args=[added.pk])
    assert len(added.reference) == 8
    assert added.status == AppointmentStatus.REQUESTED
    assert added.practitioner == booked.practitioner
    assert added.ends_at == start + booked.treatment.duration
    assert added.blocked_until == added.ends_at + booked.treatment.buffer
    assert [(event.to_status, event.by.username, event.note) for event in added.events.all()] == [
        (AppointmentStatus.REQUESTED, "admin", "Booked by phone by admin.")
    ]
    assert added.messages.filter(kind=MessageKind.REQUEST_RECEIVED).exists()  # the patient is told
    changelist = admin_client.get(reverse("admin:booking_appointment_changelist")).content.decode()
    assert added.reference in changelist and "Tom Reyes" in changelist
    assert f"{timezone.localtime(start):%H:%M}" in changelist


def test_staff_booking_by_phone_cannot_give_a_name_of_invisible_characters(admin_client, booked):
    start = booked.blocked_until
    response = phone_booking(admin_client, booked, start, first_name="\u200b\u200b")

    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("Enter a name with at least one letter") == 2  # in the summary and next to its field
    assert re.search(r'<ul class="errorlist" id="id_first_name_error"><li>Enter a name with at least one letter', html)
    assert 'value="Reyes"' in html and 'value="tom@example.com"' in html  # what staff typed is kept
    assert not Appointment.objects.filter(last_name="Reyes").exists()

    assert phone_booking(admin_client, booked, start, first_name="\u00a0José-María ").status_code == 302
    assert Appointment.objects.get(last_name="Reyes").first_name == "José-María"


def test_staff_booking_an_overlapping_appointment_get_the_message_and_nothing_is_saved(admin_client, booked):
    start = booked.starts_at + timedelta(minutes=30)
    response = phone_booking(admin_client, booked, start)

    assert response.status_code == 409
    html = response.content.decode()
    assert "that time was just taken" in html
    assert 'value="Reyes"' in html  # what staff typed is kept
    assert not Appointment.objects.filter(last_name="Reyes").exists()


def change_data(appointment, start):
    local_start = timezone.localtime(start)
    events = list(appointment.events.all())
    data = {
        "treatment": appointment.treatment.pk,
        "practitioner": appointment.practitioner.pk,
        "starts_at_0": local_start.date().isoformat(),
        "starts_at_1": f"{local_start:%H:%M}",
        "staff_notes": "Moved at the patient's request.",
        "events-TOTAL_FORMS": str(len(events)),
        "events-INITIAL_FORMS": str(len(events)),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }
    for index, event in enumerate(events):
        data[f"events-{index}-id"] = event.pk
        data[f"events-{index}-appointment"] = appointment.pk
    return data


def test_staff_moving_an_appointment_onto_another_get_the_message_and_nothing_changes(admin_client, booked):
    start = booked.blocked_until + timedelta(hours=2)
    other = appointment_at(start, treatment=booked.treatment, practitioner=booked.practitioner, reference="MOVE2345")
    url = reverse("admin:booking_appointment_change", args=[other.pk])

    response = admin_client.post(url, change_data(other, booked.starts_at + timedelta(minutes=15)))
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    other.refresh_from_db()
    assert other.starts_at == start and other.staff_notes == ""

    # The same form to a free time saves: the refusal above was the overlap and nothing else.
    later = start + timedelta(hours=1)
    assert admin_client.post(url, change_data(other, later)).status_code == 302
    other.refresh_from_db()
    assert other.starts_at == later
    assert other.blocked_until == later + booked.treatment.duration + booked.treatment.buffer


def test_a_cancelled_appointment_does_not_block_staff_from_booking_its_time(admin_client, booked):
    Appointment.objects.filter(pk=booked.pk).update(status=AppointmentStatus.CANCELLED_BY_PATIENT)
    response = phone_booking(admin_client, booked, booked.starts_at)
    assert response.status_code == 302
    assert Appointment.objects.get(last_name="Reyes").starts_at == booked.starts_at


def test_a_clash_that_slips_past_the_checks_is_refused_by_the_database_with_a_message(
    admin_client, booked, monkeypatch
):
    # Another booking is committed after the form's and the service's checks found the time free:
    # both still see it free, so only the exclusion constraint can refuse the insert.
    start = booked.blocked_until
    free = practitioners_free_at(treatment=booked.treatment, start=start, practitioner=booked.practitioner)
    assert free
    monkeypatch.setattr(booking.requests.forms, "practitioners_free_at", lambda **kwargs: free)
    monkeypatch.setattr(booking.appointments.services, "practitioners_free_at", lambda **kwargs: free)
    appointment_at(start, treatment=booked.treatment, practitioner=booked.practitioner, reference="RACE2345")

    response = phone_booking(admin_client, booked, start)

    assert response.status_code == 409
    html = response.content.decode()
    assert "That time was taken a moment ago by another booking." in html
    assert 'value="Reyes"' in html
    assert not Appointment.objects.filter(last_name="Reyes").exists()


def test_the_database_refuses_an_overlapping_appointment_written_directly(booked):
    with pytest.raises(IntegrityError):
        appointment_at(
            booked.starts_at + timedelta(minutes=5),
            treatment=booked.treatment,
            practitioner=booked.practitioner,
            reference="DIRECT23",
        )


def test_what_the_patient_submitted_is_read_only_and_the_history_is_shown(admin_client, booked):
    html = admin_client.get(reverse("admin:booking_appointment_change", args=[booked.pk])).content.decode()
    assert 'name="first_name"' not in html and 'name="email"' not in html and 'name="status"' not in html
    assert "Maya" in html and "maya@example.com" in html
    assert 'name="starts_at_0"' in html and 'name="staff_notes"' in html
    assert "history" in html.lower() and "Requested" in html
    assert 'name="events-0-note"' not in html


def test_staff_find_an_appointment_by_phone_and_cannot_delete_it(admin_client, booked):
    url = reverse("admin:booking_appointment_changelist")
    assert "HELD2345" in admin_client.get(url, {"q": "+447700900123"}).content.decode()
    assert "HELD2345" not in admin_client.get(url, {"q": "+440000000000"}).content.decode()
    assert admin_client.get(reverse("admin:booking_appointment_delete", args=[booked.pk])).status_code == 403
