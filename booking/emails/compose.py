"""The emails the site sends: who gets them, what they say, what they attach.

Built at send time from the appointment as it is then. Plain text and HTML parts, the clinic's
details, no remote images or tracking, and the treatment named only if the clinic allows it.
"""

from datetime import datetime
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from booking.emails.calendar import calendar_for
from booking.links import email_confirm_token, manage_token, waitlist_claim_token
from booking.models import CLINIC_KINDS, Appointment, AppointmentStatus, MessageKind
from clinic.models import ClinicDetails

K = MessageKind

# The patient's subjects are in their language (the French in locale/fr/, with the emails' texts);
# the clinic's stay in the site's.
SUBJECTS = {
    K.REQUEST_RECEIVED: gettext_lazy("We have your appointment request (%(reference)s)"),
    K.REQUEST_EXPIRED: gettext_lazy("Your appointment request has expired (%(reference)s)"),
    K.CONFIRMED: gettext_lazy("Your appointment is confirmed (%(reference)s)"),
    K.DECLINED: gettext_lazy("We cannot offer the time you asked for (%(reference)s)"),
    K.CANCELLED: gettext_lazy("Your appointment is cancelled (%(reference)s)"),
    K.MOVED: gettext_lazy("Your appointment has moved (%(reference)s)"),
    K.REMINDER: gettext_lazy("Reminder: your appointment on %(date)s"),
    K.AFTERCARE: gettext_lazy("After your visit: aftercare advice"),
    K.WAITLIST_OFFER: gettext_lazy("A time has become free"),
    K.COURSE_BOOKED: gettext_lazy("Your course of treatment is booked (%(reference)s)"),
    K.CLINIC_NEW_REQUEST: "New appointment request %(reference)s",
    K.CLINIC_CANCELLED: "Patient cancelled %(reference)s",
    K.CLINIC_MOVED: "Patient moved %(reference)s",
}
CALENDAR_REQUEST = {K.CONFIRMED, K.MOVED}
CALENDAR_CANCEL = {K.CANCELLED, K.DECLINED, K.REQUEST_EXPIRED}


def absolute(path):
    return f"{settings.CLINIC_SITE_URL}{path}"


def manage_url(*, appointment):
    return absolute(reverse("booking:manage", kwargs={"token": manage_token(appointment=appointment)}))


def parse_time(value):
    return timezone.localtime(datetime.fromisoformat(value)) if value else None


def same_instant(moment, iso_text):
    # Compared as instants: the same time written in another zone is the same time.
    return moment is not None and bool(iso_text) and moment == datetime.fromisoformat(iso_text)


def message_is_current(*, message):
    """False for a message overtaken by events, e.g. a reminder for a time that has moved."""
    appointment = message.appointment
    starts_at = message.context.get("starts_at")
    if message.kind == K.REMINDER:
        return (
            appointment.status == AppointmentStatus.CONFIRMED
            and same_instant(appointment.starts_at, starts_at)
            and appointment.starts_at > timezone.now()
        )
    if message.kind == K.CONFIRMED:
        return appointment.status == AppointmentStatus.CONFIRMED
    if message.kind == K.AFTERCARE:
        return appointment.status == AppointmentStatus.COMPLETED
    if message.kind == K.WAITLIST_OFFER:
        entry = message.waitlist_entry
        return entry.status == "offered" and same_instant(entry.offered_start, starts_at)
    if message.kind == K.COURSE_BOOKED:
        return course_sessions(message=message).exists()
    return True


def course_sessions(*, message):
    """A course email's sessions as they are now: the ones still planned, in time order."""
    return (
        Appointment.objects.filter(course_id=message.context.get("course_id"))
        .active()
        .select_related("treatment", "practitioner")
        .order_by("starts_at", "pk")
    )


def recipient(*, message, clinic):
    if message.kind in CLINIC_KINDS:
        return clinic.notification_email or clinic.email
    if message.waitlist_entry_id:
        return message.waitlist_entry.email
    return message.appointment.email


def message_language(*, message):
    """The patient's language for their emails; the site's own for the clinic's."""
    if message.kind in CLINIC_KINDS:
        return settings.LANGUAGE_CODE
    if message.waitlist_entry_id:
        return message.waitlist_entry.language
    return message.appointment.language


def email_build(*, message):
    """The EmailMultiAlternatives for a queued message, or None when there is nobody to send it to.

    Written, links and calendar files included, in the patient's language, whoever or whatever
    (the worker, a member of staff's "send again") builds it.
    """
    with translation.override(message_language(message=message)):
        return email_compose(message=message)


def email_compose(*, message):
    clinic = ClinicDetails.objects.current()
    to = recipient(message=message, clinic=clinic)
    if not to:
        return None
    appointment = message.appointment
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "entry": message.waitlist_entry,
        "show_treatment": settings.CLINIC_EMAIL_SHOW_TREATMENT,
        "note": message.context.get("note", ""),
        "old_start": parse_time(message.context.get("old_starts_at")),
        "site_url": settings.CLINIC_SITE_URL,
        "book_url": absolute(reverse("booking:book")),
        "admin_url": absolute(reverse("admin:booking_appointment_change", args=[appointment.pk]))
        if appointment
        else None,
    }
    if appointment is not None and message.kind not in CLINIC_KINDS:
        context["manage_url"] = manage_url(appointment=appointment)
    if message.kind == K.REQUEST_RECEIVED and appointment.email_confirmed_at is None:
        context["confirm_url"] = absolute(
            reverse("booking:email_confirm", kwargs={"token": email_confirm_token(appointment=appointment)})
        )
    if message.kind == K.WAITLIST_OFFER:
        entry = message.waitlist_entry
        context["offered_start"] = entry.offered_start
        context["claim_until"] = parse_time(message.context.get("claim_until"))
        context["claim_url"] = absolute(
            reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=entry)})
        )
    sessions = list(course_sessions(message=message)) if message.kind == K.COURSE_BOOKED else []
    context["sessions"] = [
        {"appointment": session, "manage_url": manage_url(appointment=session)} for session in sessions
    ]
    subject = str(SUBJECTS[message.kind])
    if appointment is not None:
        # "Thursday 10 December", "jeudi 10 décembre": the weekday and month in the email's language.
        day = date_format(timezone.localtime(appointment.starts_at), "l j F")
        subject %= {"reference": appointment.reference, "date": day}
    template = f"emails/{message.kind}"
    email = EmailMultiAlternatives(
        subject=f"{subject} – {clinic.name}",
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        reply_to=[clinic.email] if clinic.email else None,
    )
    email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for part in calendar_attachments(message=message, clinic=clinic, sessions=sessions):
        email.attach(part)
    return email


def calendar_attachments(*, message, clinic, sessions):
    """The .ics files a message carries: one per course session, or one for the appointment's change."""
    if message.kind == K.COURSE_BOOKED:
        # One file per session: calendar apps import a single-event invitation most reliably.
        return [
            calendar_attachment(
                calendar_for(appointments=[session], clinic=clinic),
                method="REQUEST",
                filename=f"session-{number}.ics",
            )
            for number, session in enumerate(sessions, start=1)
        ]
    if message.kind in CALENDAR_REQUEST | CALENDAR_CANCEL:
        cancel = message.kind in CALENDAR_CANCEL
        ics = calendar_for(appointments=[message.appointment], clinic=clinic, cancel=cancel)
        return [calendar_attachment(ics, method="CANCEL" if cancel else "REQUEST")]
    return []


def calendar_attachment(ics, *, method, filename="appointment.ics"):
    """The .ics as a MIME part; built by hand because Django would write its charset twice."""
    part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part
