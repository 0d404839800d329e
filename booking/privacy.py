"""A patient's personal data: export it, erase it on request, anonymise it after the retention period.

A patient is their email address (compared without case), as on the booking and waitlist forms.
Erasing keeps each appointment's non-personal facts (treatment, practitioner, times, status,
when consent was given, and its history rows: when, from and to which status, by whom) for the
clinic's statistics and replaces everything that names or reaches the person. That includes the
free text staff wrote: staff notes, and the history's notes (a decline or cancel reason, which the
patient's email also kept, may say "pregnant" or give a phone number), which become ``NOTE_ERASED``.
The admin's own log of changes labels each row with the patient's name, so that label is replaced too.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, F, Func, JSONField, Q, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone

from booking.appointments.services import appointment_transition
from booking.intake.models import Enquiry, HealthAnswer
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Message,
    MessageStatus,
    WaitlistEntry,
    WaitlistStatus,
)

ERASED_NAME = "Erased"
# A reserved top-level domain (RFC 2606): no email can ever reach it, and it still passes validation.
ERASED_DOMAIN = "erased.invalid"
ERASE_REASON = "Erased at the patient's request"
# What a history row's note becomes: the row itself (when, from, to, who) stays.
NOTE_ERASED = "Note removed with the patient's personal data."


@dataclass(frozen=True)
class Erasure:
    appointments: int
    waitlist_entries: int
    cancelled: int
    enquiries: int = 0


def staff_label(user):
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def patient_appointments(email):
    return Appointment.objects.filter(email__iexact=email.strip())


def patient_waitlist_entries(email):
    return WaitlistEntry.objects.filter(email__iexact=email.strip())


def patient_enquiries(email):
    return Enquiry.objects.filter(email__iexact=email.strip())


def answers_export(answers):
    """The health answers as the patient gave them, each with the question as it was asked."""
    return [
        {
            "question": answer.question_text,
            "question_version": answer.question_version,
            "answer": answer.answer,
            "talk_first": answer.talk_first,
            "answered_at": iso(answer.created_at),
        }
        for answer in answers
    ]


def enquiry_export(enquiry):
    return {
        "treatment": enquiry.treatment.name,
        "first_name": enquiry.first_name,
        "last_name": enquiry.last_name,
        "email": enquiry.email,
        "phone": enquiry.phone,
        "message": enquiry.message,
        "consent_at": iso(enquiry.consent_at),
        "created_at": iso(enquiry.created_at),
        "handled_at": iso(enquiry.handled_at),
        "health_answers": answers_export(enquiry.health_answers.all()),
    }


def iso(moment):
    return moment.isoformat() if moment else None


def emails_sent(messages):
    """Which emails the site wrote about it, and when: kinds and dates, never their text."""
    return [
        {
            "kind": message.kind,
            "status": message.status,
            "queued_at": iso(message.created_at),
            "sent_at": iso(message.sent_at),
        }
        for message in messages
    ]


def appointment_export(appointment):
    return {
        "reference": appointment.reference,
        "treatment": appointment.treatment.name,
        "practitioner": appointment.practitioner.name,
        "starts_at": iso(appointment.starts_at),
        "ends_at": iso(appointment.ends_at),
        "status": appointment.status,
        "first_name": appointment.first_name,
        "last_name": appointment.last_name,
        "email": appointment.email,
        "phone": appointment.phone,
        "message": appointment.message,
        "first_visit": appointment.first_visit,
        "consent_at": iso(appointment.consent_at),
        "privacy_notice_version": appointment.privacy_notice.version if appointment.privacy_notice else None,
        "staff_notes": appointment.staff_notes,
        "created_at": iso(appointment.created_at),
        "updated_at": iso(appointment.updated_at),
        "history": [
            {
                "at": iso(event.at),
                "from_status": event.from_status,
                "to_status": event.to_status,
                "note": event.note,
                "by": staff_label(event.by) if event.by else None,
            }
            for event in appointment.events.all()
        ],
        "emails": emails_sent(appointment.messages.order_by("created_at", "pk")),
        "health_answers": answers_export(appointment.health_answers.all()),
    }


def waitlist_entry_export(entry):
    return {
        "treatment": entry.treatment.name,
        "date_from": entry.date_from.isoformat(),
        "date_to": entry.date_to.isoformat(),
        "status": entry.status,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "email": entry.email,
        "phone": entry.phone,
        "offered_start": iso(entry.offered_start),
        "offered_at": iso(entry.offered_at),
        "appointment": entry.appointment.reference if entry.appointment else None,
        "consent_at": iso(entry.consent_at),
        "privacy_notice_version": entry.privacy_notice.version if entry.privacy_notice else None,
        "created_at": iso(entry.created_at),
        "emails": emails_sent(entry.messages.order_by("created_at", "pk")),
    }


def history_note(appointments, *, note, by):
    """One history row per appointment; the status stays as it is."""
    AppointmentEvent.objects.bulk_create(
        AppointmentEvent(
            appointment=appointment, by=by, from_status=appointment.status, to_status=appointment.status, note=note
        )
        for appointment in appointments
    )


def patient_export(*, email, by=None):
    """Everything held about the patient with this email, as a JSON-ready dict; the export is logged in the history."""
    appointments = list(
        patient_appointments(email)
        .select_related("treatment", "practitioner", "privacy_notice")
        .prefetch_related("events__by", "health_answers")
        .order_by("starts_at", "pk")
    )
    entries = list(
        patient_waitlist_entries(email)
        .select_related("treatment", "appointment", "privacy_notice")
        .order_by("created_at", "pk")
    )
    data = {
        "exported_at": iso(timezone.now()),
        "email": email.strip(),
        "appointments": [appointment_export(appointment) for appointment in appointments],
        "waitlist_entries": [waitlist_entry_export(entry) for entry in entries],
        "enquiries": [
            enquiry_export(enquiry)
            for enquiry in patient_enquiries(email)
            .select_related("treatment")
            .prefetch_related("health_answers")
            .order_by("created_at", "pk")
        ],
    }
    history_note(appointments, note=f"Personal data exported by {staff_label(by)}.", by=by)
    return data


def anonymise(appointments, entries):
    """Replace every personal field; keep consent as a time only, and the non-personal facts."""
    placeholder = Concat(Value("erased-"), Cast("pk", CharField()), Value(f"@{ERASED_DOMAIN}"))
    appointments.update(
        first_name=ERASED_NAME,
        last_name=ERASED_NAME,
        email=placeholder,
        phone="",
        message="",
        staff_notes="",
        updated_at=timezone.now(),
    )
    open_entries = Q(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED])
    # No more offers to an address that no longer exists.
    entries.filter(open_entries).update(status=WaitlistStatus.WITHDRAWN)
    entries.update(first_name=ERASED_NAME, last_name=ERASED_NAME, email=placeholder, phone="")
    # Health answers name no one, but are the person's health: nothing of them is kept.
    HealthAnswer.objects.filter(appointment__in=appointments.values("pk")).delete()
    # Staff's free text: a reason or a note may say anything about the person. The erasure's own
    # cancellation reason (written just before, in the same transaction) says nothing about them.
    AppointmentEvent.objects.filter(appointment__in=appointments.values("pk")).exclude(
        note__in=["", ERASE_REASON]
    ).update(note=NOTE_ERASED)
    messages = Message.objects.filter(
        Q(appointment__in=appointments.values("pk")) | Q(waitlist_entry__in=entries.values("pk"))
    )
    # Emails still owed would go nowhere: nobody is left to write to.
    messages.filter(status=MessageStatus.PENDING).update(
        status=MessageStatus.OBSOLETE, last_error="Personal data erased."
    )
    # An email's only text is the reason it told the patient (jsonb minus a key).
    messages.filter(context__has_key="note").update(
        context=Func(
            F("context"), Value("note"), template="%(expressions)s", arg_joiner=" - ", output_field=JSONField()
        )
    )
    admin_log_relabel(appointments, entries)


def admin_log_relabel(appointments, entries):
    """The admin's log of changes (its "Recent actions") keeps each row's label, which names the patient."""
    for queryset in (appointments, entries):
        logged = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(queryset.model),
            object_id__in=queryset.annotate(key=Cast("pk", CharField())).values("key"),
        )
        # Few rows were ever changed in the admin: one update for each of those only.
        ids = {int(object_id) for object_id in logged.values_list("object_id", flat=True)}
        for row in queryset.select_related("treatment").filter(pk__in=ids):
            logged.filter(object_id=str(row.pk)).update(object_repr=str(row)[:200])


def patient_erase(*, email, by):
    """Erase the patient's data on request: future visits are cancelled first so their times free up."""
    now = timezone.now()
    with transaction.atomic():
        appointments = list(patient_appointments(email).select_for_update().order_by("pk"))
        ids = [appointment.pk for appointment in appointments]
        cancelled = 0
        for appointment in appointments:
            if appointment.status in ACTIVE_STATUSES and appointment.starts_at > now:
                appointment_transition(
                    appointment=appointment,
                    to_status=AppointmentStatus.CANCELLED_BY_PATIENT,
                    by=by,
                    note=ERASE_REASON,
                )
                cancelled += 1
        entries = patient_waitlist_entries(email)
        entry_ids = list(entries.values_list("pk", flat=True))
        anonymise(Appointment.objects.filter(pk__in=ids), WaitlistEntry.objects.filter(pk__in=entry_ids))
        history_note(Appointment.objects.filter(pk__in=ids), note=f"Personal data erased by {staff_label(by)}.", by=by)
        # An enquiry is nothing but the person's details and answers: it goes, answers and all.
        _, deleted = patient_enquiries(email).delete()
    return Erasure(
        appointments=len(ids),
        waitlist_entries=len(entry_ids),
        cancelled=cancelled,
        enquiries=deleted.get(Enquiry._meta.label, 0),
    )


def not_erased(queryset):
    return queryset.exclude(email__iendswith=f"@{ERASED_DOMAIN}")


def patients_anonymise_inactive(*, older_than_days, now=None):
    """Anonymise every patient whose last visit (any status) or waitlist date is older than the period.

    Returns how many patients (email addresses) were anonymised. Safe to run again: erased rows
    are skipped.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    recent = {
        *not_erased(Appointment.objects.filter(starts_at__gte=cutoff)).values_list(Lower("email"), flat=True),
        *not_erased(
            WaitlistEntry.objects.filter(Q(date_to__gte=timezone.localdate(cutoff)) | Q(created_at__gte=cutoff))
        ).values_list(Lower("email"), flat=True),
    }
    old_appointments = not_erased(Appointment.objects.annotate(email_lower=Lower("email"))).exclude(
        email_lower__in=recent
    )
    old_entries = not_erased(WaitlistEntry.objects.annotate(email_lower=Lower("email"))).exclude(email_lower__in=recent)
    with transaction.atomic():
        patients = set(old_appointments.values_list("email_lower", flat=True))
        patients |= set(old_entries.values_list("email_lower", flat=True))
        appointment_ids = list(old_appointments.select_for_update(of=("self",)).values_list("pk", flat=True))
        entry_ids = list(old_entries.values_list("pk", flat=True))
        anonymised = Appointment.objects.filter(pk__in=appointment_ids)
        anonymise(anonymised, WaitlistEntry.objects.filter(pk__in=entry_ids))
        history_note(
            anonymised,
            note=f"Personal data anonymised: no visit for {older_than_days} days (retention period).",
            by=None,
        )
        # Enquiries older than the period go with their answers (an enquiry is all personal).
        Enquiry.objects.filter(created_at__lt=cutoff).delete()
    return len(patients)
