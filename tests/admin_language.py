"""The admin in the language the member of staff's browser asks for, for the French admin tests.

Django's LocaleMiddleware gives every address outside ``i18n_patterns`` (the admin's among them) the
site's LANGUAGE_CODE, so the admin speaks English whatever the browser asks. Until the admin follows
the browser itself (clinic/, not these tests' slice), ``french_staff`` stands in for that: the admin's
requests get the browser's language, as Django would give them outside ``i18n_patterns``. Everything
else, the catalogs and the pages, is what a clinic deploys.
"""

import pytest
from django.utils import translation

LOCALE = "django.middleware.locale.LocaleMiddleware"


def browser_language(get_response):
    def middleware(request):
        if request.path_info.startswith("/admin/"):
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
        return get_response(request)

    return middleware


@pytest.fixture
def french_staff(settings, client):
    """The test client, as a browser that asks for French."""
    after = settings.MIDDLEWARE.index(LOCALE) + 1
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:after], f"{__name__}.browser_language", *settings.MIDDLEWARE[after:]]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    yield client
    translation.activate(settings.LANGUAGE_CODE)
