from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Booking")

    def ready(self):
        # The task modules register what background_enqueue runs (booking.background).
        from booking.emails import tasks as email_tasks  # noqa: F401
        from booking.requests import tasks as request_tasks  # noqa: F401
        from booking.schedule import signals
        from booking.waitlist import tasks as waitlist_tasks  # noqa: F401

        signals.connect()
