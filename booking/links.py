"""Signed, unguessable links for patients, so a page about an appointment needs no account.

A token carries the appointment's reference and the time it was made; the signature (keyed by
SECRET_KEY and a salt per purpose) stops anyone from forging or editing one.
"""

from datetime import timedelta

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
    return Appointment.objects.select_related("treatment", "practitioner").filter(reference=reference).first()
