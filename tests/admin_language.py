"""A member of staff whose browser asks for French, for the French admin tests of health questions,
patient data and insights (the admin follows the browser: clinic.i18n.admin_language)."""

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture
def french_staff(client):
    """The test client, as a browser that asks for French."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    yield client
    # The admin's requests leave their language active in the test's thread.
    translation.activate(settings.LANGUAGE_CODE)
