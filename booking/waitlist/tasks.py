"""The worker's task that offers a freed time to the waitlist."""

from datetime import datetime

from booking.background import background_task
from booking.waitlist.services import waitlist_time_freed


@background_task
def waitlist_match(start, practitioner_id):
    """A time became free: offer it to the first patient waiting for it."""
    entry = waitlist_time_freed(start=datetime.fromisoformat(start), practitioner_id=practitioner_id)
    # A task's result is stored as JSON: the entry's id, not the entry.
    return entry.pk if entry else None
