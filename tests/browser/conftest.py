import pytest


@pytest.fixture(autouse=True)
def _content(clinic_content):
    """Browser tests run against a live server, so their database is flushed after each test."""
