from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self):
        from booking import (
            course_admin,  # noqa: F401  (registers the courses' admin pages)
            signals,
        )

        signals.connect()
