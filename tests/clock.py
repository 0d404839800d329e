"""Time that passes at a test's word."""

from django.utils import timezone


def clock_at(monkeypatch, moment):
    """Time passes: every timezone.now() from here on says ``moment``."""
    monkeypatch.setattr(timezone, "now", lambda: moment)
