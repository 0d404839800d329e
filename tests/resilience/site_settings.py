"""Production settings for the gunicorn instances these tests start, except for static files.

The real settings serve static files through the manifest that `collectstatic` writes into the
project's staticfiles/; these tests must not depend on (or rewrite) that shared folder, so they
find the files in place, as the rest of the test suite does (tests/conftest.py).
"""

from clinic.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
