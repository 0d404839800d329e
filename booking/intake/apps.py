from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Health questions before the visit, and the answers: health data, in tables of their own."""

    name = "booking.intake"
    label = "intake"
    verbose_name = "Health questions"
