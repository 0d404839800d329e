"""Rows written straight to the database for tests, past every check the booking services make."""

from itertools import count

from django.utils import timezone

from booking.models import Appointment, AppointmentEvent, AppointmentStatus, Practitioner, Treatment

# A process-wide counter keeps references unique even across tests that commit (transactional tests).
_references = count(1)

PATIENT = {"first_name": "Pat", "last_name": "Ient", "email": "pat@example.com", "phone": "+447700900000"}


def appointment_at(
    start,
    *,
    treatment=None,
    practitioner=None,
    status=AppointmentStatus.REQUESTED,
    reference=None,
    history=False,
    **fields,
):
    """An appointment at ``start``, by default for the seeded "hair-loss" treatment with the first active
    practitioner giving it. ``ends_at`` and ``blocked_until`` follow the treatment unless given, so a test
    can write an interval no booking would make; any other Appointment field, the patient's included,
    may be given too. With ``history`` the first history row is written, as a booking would. The
    patient's address counts as confirmed unless ``email_confirmed_at=None`` is given."""
    treatment = treatment or Treatment.objects.get(slug="hair-loss")
    if practitioner is None:
        practitioner = Practitioner.objects.giving(treatment).order_by("pk").first()
    ends_at = fields.pop("ends_at", start + treatment.duration)
    appointment = Appointment.objects.create(
        reference=reference or f"T{next(_references):07d}",
        treatment=treatment,
        practitioner=practitioner,
        starts_at=start,
        ends_at=ends_at,
        blocked_until=fields.pop("blocked_until", ends_at + treatment.buffer),
        status=status,
        **{**PATIENT, "email_confirmed_at": timezone.now(), **fields},
    )
    if history:
        AppointmentEvent.objects.create(appointment=appointment, to_status=status)
    return appointment


def code_from(uri):
    """The code an authenticator app shows now for this provisioning URI (`manage.py otp_enroll` prints it)."""
    from base64 import b32decode
    from urllib.parse import parse_qs, urlsplit

    from django_otp.oath import totp

    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    return f"{totp(b32decode(secret + '=' * (-len(secret) % 8))):06d}"


def authenticator(user):
    """The user's confirmed authenticator, enrolled if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Test authenticator"
    )


def authenticator_code(user):
    """The code the user's authenticator app shows now (an authenticator is enrolled if they have none).

    The site refuses a code used once already (django-otp keeps the last time step): each call
    stands for a later sign-in, so that step is forgotten first.
    """
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = authenticator(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def answers_fine():
    """The health questions' step answered with nothing to talk about first, for every active
    question of every treatment (a form ignores the fields of other treatments' questions)."""
    from booking.intake.models import HealthQuestion, QuestionKind

    data = {"step": "questions"}
    for question in HealthQuestion.objects.active():
        if question.kind == QuestionKind.TEXT:
            data[f"health-{question.pk}"] = ""
        else:
            data[f"health-{question.pk}"] = next(
                answer for answer in question.answer_choices() if not question.talks_first(answer)
            )
    return data
