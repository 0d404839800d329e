"""A patient's data: exported and erased from the admin on request, anonymised after the retention period."""

import io
import json
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from booking.appointments.services import appointment_request, appointment_transition
from booking.emails.tasks import message_send
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Message,
    MessageStatus,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
)
from booking.privacy import ERASE_REASON, NOTE_ERASED, patients_anonymise_inactive
from booking.schedule.availability import practitioners_free_at
from clinic.models import PrivacyNotice
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

S = AppointmentStatus
PAGE = "admin:booking_appointment_patient_data"
EMAIL = "maria.bianchi@example.com"
PERSONAL = ["Maria", "Bianchi", "maria.bianchi", "+447700900123", "Please call after 5pm", "allergic to lidocaine"]


def local(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone()).astimezone(UTC)


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


def patient(name="Maria", email=EMAIL):
    return {
        "first_name": name,
        "last_name": "Bianchi",
        "email": email,
        "phone": "+447700900123",
        "message": "Please call after 5pm.",
        "first_visit": True,
    }


def past_visit(treatment, practitioner, *, days_ago, email=EMAIL, status=S.COMPLETED, name="Maria"):
    start = local(timezone.localdate() - timedelta(days=days_ago), 10)
    return appointment_at(
        start,
        treatment=treatment,
        practitioner=practitioner,
        status=status,
        staff_notes="Patient allergic to lidocaine.",
        consent_at=start - timedelta(days=3),
        privacy_notice=PrivacyNotice.objects.current(),
        **patient(name=name, email=email),
    )


def waitlist_entry(treatment, *, email=EMAIL, days_ago=0):
    today = timezone.localdate() - timedelta(days=days_ago)
    entry = WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=today,
        date_to=today + timedelta(days=14),
        first_name="Maria",
        last_name="Bianchi",
        email=email,
        phone="+447700900123",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
    )
    if days_ago:
        WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return entry


@pytest.fixture
def future_visit(treatment, practitioner):
    start = local(timezone.localdate() + timedelta(days=5), 11)
    appointment = appointment_request(treatment=treatment, start=start, patient=patient(), practitioner=practitioner)
    return appointment_transition(appointment=appointment, to_status=S.CONFIRMED)


def personal_text(row):
    """Every text field of the row (names, email, phone, message, notes), joined."""
    return " ".join(
        str(getattr(row, field.attname))
        for field in type(row)._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField | models.EmailField)
    )


def assert_nothing_personal(row):
    text = personal_text(row).lower()
    assert [value for value in PERSONAL if value.lower() in text] == []
    assert row.email.endswith("@erased.invalid")
    assert row.phone == ""


def post(client, **data):
    return client.post(reverse(PAGE), data)


# Who may


def test_staff_without_the_patient_data_permission_cannot_export_or_erase(client, future_visit):
    reception = User.objects.create_user("reception", password="x", is_staff=True)
    reception.groups.add(Group.objects.get(name="Reception"))
    client.force_login(reception)

    assert client.get(reverse(PAGE)).status_code == 403
    assert post(client, email=EMAIL, action="export").status_code == 403
    assert post(client, email=EMAIL, action="erase", confirm="on").status_code == 403
    assert Appointment.objects.get().email == EMAIL
    changelist = client.get(reverse("admin:booking_appointment_changelist")).content.decode()
    assert "Patient data" not in changelist


def test_the_permission_alone_opens_the_page_and_superusers_see_it_from_the_appointments(client, admin_client):
    staff = User.objects.create_user("dpo", password="x", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="manage_patient_data"), Permission.objects.get(codename="view_appointment")
    )
    client.force_login(staff)
    assert client.get(reverse(PAGE)).status_code == 200

    changelist = admin_client.get(reverse("admin:booking_appointment_changelist")).content.decode()
    assert f'href="{reverse(PAGE)}"' in changelist
    html = admin_client.get(reverse(PAGE)).content.decode()
    assert '<label for="id_email"' in html
    assert html.count("<h1") == 1


# Export


def test_export_downloads_everything_held_about_the_patient_and_is_logged(
    admin_client, treatment, practitioner, future_visit
):
    old = past_visit(treatment, practitioner, days_ago=30)
    entry = waitlist_entry(treatment)
    someone_else = past_visit(treatment, practitioner, days_ago=20, email="other@example.com", name="Other")

    response = post(admin_client, email="Maria.Bianchi@Example.com", action="export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="patient-data-')
    assert "maria" not in response["Content-Disposition"].lower()
    data = json.loads(response.content)
    assert [a["reference"] for a in data["appointments"]] == [old.reference, future_visit.reference]
    exported = data["appointments"][1]
    assert (exported["first_name"], exported["phone"], exported["message"]) == (
        "Maria",
        "+447700900123",
        "Please call after 5pm.",
    )
    assert [(h["from_status"], h["to_status"]) for h in exported["history"]] == [
        ("", S.REQUESTED),
        (S.REQUESTED, S.CONFIRMED),
    ]
    assert {"request_received", "confirmed"} <= {email["kind"] for email in exported["emails"]}
    assert data["appointments"][0]["staff_notes"] == "Patient allergic to lidocaine."
    assert [w["date_from"] for w in data["waitlist_entries"]] == [entry.date_from.isoformat()]
    assert someone_else.reference not in response.content.decode()

    for appointment in (old, future_visit):
        last = appointment.events.last()
        assert last.note == "Personal data exported by admin."
        assert last.by.username == "admin"
        assert last.to_status == last.from_status == Appointment.objects.get(pk=appointment.pk).status
    assert not someone_else.events.exists()


def test_an_unknown_email_says_nothing_is_held_and_a_bad_one_is_refused(admin_client, future_visit):
    response = post(admin_client, email="nobody@example.com", action="export")
    assert response.status_code == 404
    assert "Nothing is held under this email address" in response.content.decode()
    assert 'value="nobody@example.com"' in response.content.decode()

    response = post(admin_client, email="not an email", action="erase")
    assert response.status_code == 400
    assert 'value="not an email"' in response.content.decode()
    assert not AppointmentEvent.objects.filter(note__startswith="Personal data").exists()


# Erase


def test_erase_asks_for_confirmation_first_and_changes_nothing_until_then(admin_client, future_visit):
    response = admin_client.get(reverse(PAGE), {"email": EMAIL, "action": "erase", "confirm": "on"})
    assert response.status_code == 200
    response = post(admin_client, email=EMAIL, action="erase")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Erase the personal data of maria.bianchi@example.com?" in html
    assert future_visit.reference in html
    assert "Cancelled, time freed" in html
    assert 'name="confirm" value="on"' in html
    unchanged = Appointment.objects.get()
    assert (unchanged.first_name, unchanged.status) == ("Maria", S.CONFIRMED)
    assert not AppointmentEvent.objects.filter(note__startswith="Personal data").exists()


def test_a_confirmed_erase_cancels_future_visits_frees_their_time_and_leaves_nothing_personal(
    admin_client, treatment, practitioner, future_visit, django_capture_on_commit_callbacks, mailoutbox
):
    old = past_visit(treatment, practitioner, days_ago=30)
    entry = waitlist_entry(treatment)
    someone_else = past_visit(treatment, practitioner, days_ago=20, email="other@example.com", name="Other")
    start = future_visit.starts_at
    assert practitioner.pk not in practitioners_free_at(treatment=treatment, start=start)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(admin_client, email=EMAIL.upper(), action="erase", confirm="on")

    assert response.status_code == 302
    assert response["Location"] == reverse(PAGE)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Personal data erased from 2 appointments and 1 waitlist entry; 1 future visit cancelled." in page

    cancelled = Appointment.objects.get(pk=future_visit.pk)
    assert cancelled.status == S.CANCELLED_BY_PATIENT
    assert practitioner.pk in practitioners_free_at(treatment=treatment, start=start)
    notes = list(cancelled.events.values_list("to_status", "note", "by__username"))
    assert notes[-2:] == [
        (S.CANCELLED_BY_PATIENT, ERASE_REASON, "admin"),
        (S.CANCELLED_BY_PATIENT, "Personal data erased by admin.", "admin"),
    ]
    assert Appointment.objects.get(pk=old.pk).status == S.COMPLETED
    assert old.events.get().note == "Personal data erased by admin."

    for row in [*Appointment.objects.filter(pk__in=[old.pk, future_visit.pk]), WaitlistEntry.objects.get()]:
        assert_nothing_personal(row)
    erased = Appointment.objects.get(pk=old.pk)
    assert (erased.treatment, erased.practitioner, erased.starts_at) == (treatment, practitioner, old.starts_at)
    assert erased.consent_at == old.consent_at
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WITHDRAWN

    # Nothing is written to an address that no longer exists, and nothing more is owed.
    assert not Message.objects.filter(appointment__in=[old, future_visit], status=MessageStatus.PENDING).exists()
    for message in Message.objects.filter(appointment__in=[old, future_visit]):
        message_send.call(message.pk)
    assert [message.to for message in mailoutbox] == []

    other = Appointment.objects.get(pk=someone_else.pk)
    assert (other.first_name, other.email) == ("Other", "other@example.com")
    assert not other.events.exists()

    # A second request finds nothing left under that address.
    assert post(admin_client, email=EMAIL, action="export").status_code == 404


# Staff's free text: reasons the patient was told, notes in the history

REASON = "Patient is pregnant; her sister takes messages on 07700 900456."


def history(appointment):
    """The history's non-personal facts: when, from, to, by whom."""
    return list(appointment.events.values_list("at", "from_status", "to_status", "by__username"))


def decline_by_staff(client, appointment):
    response = client.post(
        reverse("admin:booking_appointment_status", args=[appointment.pk, "decline"]), {"reason": REASON}
    )
    assert response.status_code == 302
    return Appointment.objects.get(pk=appointment.pk)


def test_erasing_removes_the_reason_staff_gave_from_the_history_the_emails_and_the_admin(
    admin_client, treatment, practitioner
):
    start = local(timezone.localdate() + timedelta(days=5), 11)
    request = appointment_request(treatment=treatment, start=start, patient=patient(), practitioner=practitioner)
    declined = decline_by_staff(admin_client, request)
    admin_user = User.objects.get(username="admin")
    LogEntry.objects.log_actions(admin_user.pk, [declined], CHANGE, change_message=[{"changed": {"fields": ["x"]}}])
    change_page = reverse("admin:booking_appointment_change", args=[declined.pk])
    assert "07700 900456" in admin_client.get(change_page).content.decode()
    assert Message.objects.filter(appointment=declined, context__note=REASON).exists()  # what the email said
    assert "Maria Bianchi" in admin_client.get(reverse("admin:index")).content.decode()  # "Recent actions"
    before = history(declined)
    assert [(row[1], row[2]) for row in before] == [("", S.REQUESTED), (S.REQUESTED, S.DECLINED)]

    response = post(admin_client, email=EMAIL, action="erase", confirm="on")

    assert response.status_code == 302
    erased = Appointment.objects.get(pk=declined.pk)
    assert erased.status == S.DECLINED
    page = admin_client.get(change_page).content.decode()
    for text in ("07700 900456", "pregnant", "sister", "Requested online", "Maria", "Bianchi"):
        assert text not in page
    assert escape(NOTE_ERASED) in page
    # Every row of the history stays, then the erasure's own row.
    assert history(erased)[:-1] == before
    assert list(erased.events.values_list("to_status", "note")) == [
        (S.REQUESTED, NOTE_ERASED),
        (S.DECLINED, NOTE_ERASED),
        (S.DECLINED, "Personal data erased by admin."),
    ]
    assert erased.events.last().by == admin_user
    texts = [json.dumps(message.context) for message in Message.objects.filter(appointment=erased)]
    assert texts and not [text for text in texts if "07700" in text or "pregnant" in text]
    assert "Bianchi" not in admin_client.get(reverse("admin:index")).content.decode()
    assert LogEntry.objects.get().object_repr == f"{erased.reference} – Erased Erased"


def test_the_retention_command_removes_staff_reasons_and_keeps_the_history_rows(
    settings, admin_client, treatment, practitioner
):
    settings.CLINIC_RETENTION_DAYS = 365
    old = past_visit(treatment, practitioner, days_ago=400, status=S.REQUESTED)
    AppointmentEvent.objects.create(appointment=old, to_status=S.REQUESTED, note="Requested online.")
    old = decline_by_staff(admin_client, old)
    before = history(old)

    call_command("patients_anonymise", stdout=io.StringIO())

    assert history(old)[:-1] == before
    assert list(old.events.values_list("from_status", "to_status", "note")) == [
        ("", S.REQUESTED, NOTE_ERASED),
        (S.REQUESTED, S.DECLINED, NOTE_ERASED),
        (S.DECLINED, S.DECLINED, "Personal data anonymised: no visit for 365 days (retention period)."),
    ]
    assert not [m.context for m in Message.objects.filter(appointment=old) if "07700" in json.dumps(m.context)]
    page = admin_client.get(reverse("admin:booking_appointment_change", args=[old.pk])).content.decode()
    assert "07700 900456" not in page
    assert "pregnant" not in page


# Retention


def test_the_retention_command_anonymises_patients_whose_last_visit_is_older_than_the_setting(
    settings, treatment, practitioner, future_visit
):
    settings.CLINIC_RETENTION_DAYS = 365
    gone = [
        past_visit(treatment, practitioner, days_ago=900, email="gone@example.com", name="Gone"),
        past_visit(treatment, practitioner, days_ago=400, email="Gone@Example.com", name="Gone", status=S.NO_SHOW),
        past_visit(treatment, practitioner, days_ago=500, email="left@example.com", name="Left", status=S.DECLINED),
    ]
    old_waitlist = waitlist_entry(treatment, email="gone@example.com", days_ago=700)
    # An old visit but a recent one too (and Maria's future visit): kept whole.
    kept_old = past_visit(treatment, practitioner, days_ago=1000)
    kept = [kept_old, past_visit(treatment, practitioner, days_ago=100, email="recent@example.com", name="Recent")]
    recent_waitlist = waitlist_entry(treatment, email="waiting@example.com", days_ago=10)
    counts_before = Counter(Appointment.objects.values_list("treatment", "practitioner", "status"))

    out = io.StringIO()
    call_command("patients_anonymise", stdout=out)

    assert out.getvalue() == "2 patients anonymised (no visit for 365 days).\n"
    for row in [
        *Appointment.objects.filter(pk__in=[a.pk for a in gone]),
        WaitlistEntry.objects.get(pk=old_waitlist.pk),
    ]:
        assert_nothing_personal(row)
    for appointment in gone:
        assert appointment.events.get().note == "Personal data anonymised: no visit for 365 days (retention period)."
    for appointment in [*kept, future_visit]:
        fresh = Appointment.objects.get(pk=appointment.pk)
        assert (fresh.first_name, fresh.email, fresh.phone) == (
            appointment.first_name,
            appointment.email,
            appointment.phone,
        )
    assert Appointment.objects.get(pk=kept_old.pk).staff_notes == "Patient allergic to lidocaine."
    assert WaitlistEntry.objects.get(pk=recent_waitlist.pk).email == "waiting@example.com"
    assert Counter(Appointment.objects.values_list("treatment", "practitioner", "status")) == counts_before
    assert [
        (a.starts_at, a.ends_at) for a in Appointment.objects.filter(pk__in=[a.pk for a in gone]).order_by("pk")
    ] == [(a.starts_at, a.ends_at) for a in gone]

    again = io.StringIO()
    call_command("patients_anonymise", stdout=again)
    assert again.getvalue() == "0 patients anonymised (no visit for 365 days).\n"


def test_the_retention_period_defaults_to_about_seven_years(settings, treatment, practitioner):
    assert settings.CLINIC_RETENTION_DAYS == 2555
    six_years = past_visit(treatment, practitioner, days_ago=6 * 365)
    assert patients_anonymise_inactive(older_than_days=settings.CLINIC_RETENTION_DAYS) == 0
    assert Appointment.objects.get(pk=six_years.pk).first_name == "Maria"
    later = timezone.now() + timedelta(days=2 * 365)
    assert patients_anonymise_inactive(older_than_days=settings.CLINIC_RETENTION_DAYS, now=later) == 1
    assert_nothing_personal(Appointment.objects.get(pk=six_years.pk))
