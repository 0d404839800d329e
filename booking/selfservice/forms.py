"""The form a patient moves their own appointment with."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from booking.requests.forms import TimeChoiceForm


class MoveForm(TimeChoiceForm):
    """A new time for a patient's own appointment, under the same rules as booking it."""

    def __init__(self, *args, appointment, **kwargs):
        super().__init__(*args, treatment=appointment.treatment, ignore_appointment=appointment, **kwargs)
        self.appointment = appointment

    def clean_start(self):
        start = super().clean_start()
        if start == self.appointment.starts_at:
            message = gettext("That is already the time of your appointment. Please choose a different time.")
            raise ValidationError(message, code="same_time")
        return start
