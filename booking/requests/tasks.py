"""The worker's task that ends a request whose hold on its time ran out."""

from booking.background import background_task
from booking.requests import services


@background_task
def request_expire(appointment_id):
    """Run at the request's expiry: free its time and tell the patient, unless it moved on since."""
    expired = services.request_expire(appointment_id=appointment_id)
    return expired.pk if expired else None
