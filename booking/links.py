"""Signed, unguessable links for patients, so a page about an appointment needs no account.

A token carries the appointment's reference and the time it was made; the signature (keyed by
SECRET_KEY and a salt per purpose) stops anyone from forging or editing one.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing

from booking.models import Appointment

CONFIRMATION_SALT = "booking.confirmation"
CONFIRMATION_MAX_AGE = timedelta(days=30)


def confirmation_token(*, appointment):
    """The token for the confirmation page shown right after a request."""
    return signing.dumps(appointment.reference, salt=CONFIRMATION_SALT)


def appointment_from_confirmation_token(token):
    """The appointment a confirmation token names, or None if it is forged, garbled or expired."""
    try:
        reference = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(reference, str):
        return None
    try:
        return Appointment.objects.select_related("treatment", "practitioner").get(reference=reference)
    except Appointment.DoesNotExist:
        return None


EMAIL_CONFIRM_SALT = "booking.email-confirm"
EMAIL_CONFIRM_MAX_AGE = timedelta(days=7)


def email_confirm_token(*, appointment):
    """The link in the "request received" email that confirms the address is the patient's.

    It names the reference and the address: a link for an address the appointment no longer has
    confirms nothing.
    """
    return signing.dumps([appointment.reference, appointment.email.lower()], salt=EMAIL_CONFIRM_SALT)


def appointment_from_email_confirm_token(token):
    """The appointment, None if the link is forged, garbled or names another address; raises SignatureExpired."""
    try:
        value = signing.loads(token, salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        return None
    appointment = Appointment.objects.select_related("treatment", "practitioner").filter(reference=value[0]).first()
    if appointment is None or appointment.email.lower() != value[1]:
        return None
    return appointment


MANAGE_SALT = "booking.manage"
WAITLIST_CLAIM_SALT = "booking.waitlist-claim"
WAITLIST_CLAIM_MAX_AGE = timedelta(days=3)


def manage_token(*, appointment):
    """The token in every patient email: the patient's own page for this appointment.

    It names the reference, which a move does not change, so an old email's link still leads
    to the appointment as it is now.
    """
    return signing.dumps(appointment.reference, salt=MANAGE_SALT)


def appointment_from_manage_token(token):
    """The appointment, None if the link is forged or garbled; raises SignatureExpired if too old."""
    try:
        reference = signing.loads(token, salt=MANAGE_SALT, max_age=timedelta(days=settings.CLINIC_PATIENT_LINK_DAYS))
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        return None
    if not isinstance(reference, str):
        return None
    try:
        return Appointment.objects.select_related("treatment", "practitioner").get(reference=reference)
    except Appointment.DoesNotExist:
        return None


def waitlist_claim_token(*, entry):
    """The link offering a freed time to a waiting patient; it names the entry and the time offered."""
    return signing.dumps([entry.pk, entry.offered_start.isoformat()], salt=WAITLIST_CLAIM_SALT)


def waitlist_claim_from_token(token):
    """(entry id, offered start as ISO text), None if forged or garbled; raises SignatureExpired if too old."""
    try:
        value = signing.loads(token, salt=WAITLIST_CLAIM_SALT, max_age=WAITLIST_CLAIM_MAX_AGE)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        return None
    return value[0], value[1]
