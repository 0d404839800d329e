import importlib
import os
import shutil
from datetime import time

import pytest
from django.conf import settings
from django.utils import translation

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config):
    # Tests render templates without running collectstatic first; the manifest storage is
    # exercised by its own test against a real collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


SEED_MIGRATIONS = [
    ("clinic.migrations.0002_clinic_details_row", "create_details"),
    ("faq.migrations.0002_seed_mesotherapy_faq", "seed_faq"),
    ("booking.migrations.0002_seed_treatments", "seed_treatments"),
    ("clinic.migrations.0004_first_privacy_notice", "publish_first_notice"),
    ("booking.migrations.0004_starting_practitioner", "create_practitioner"),
    ("faq.migrations.0003_content_editors_group", "create_group"),
    ("booking.migrations.0007_staff_groups", "groups_create"),
    ("booking.intake.migrations.0002_starting_questions", "forwards"),
    ("booking.migrations.0012_outbox_permissions", "grants_add"),
    ("booking.insights.migrations.0002_managers_see_insights", "grant"),
    ("clinic.migrations.0011_privacy_notice_english_kept_and_french", "french_write"),
    ("faq.migrations.0005_english_kept_and_french_seed", "french_seed"),
    ("booking.migrations.0015_english_kept_and_french_treatments", "french_write"),
    ("booking.intake.migrations.0004_english_kept_and_french_questions", "french_write"),
]


@pytest.fixture
def clinic_content(transactional_db):
    """The clinic's starting content again, for tests whose database was flushed by a transactional test."""
    from django.apps import apps

    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def working_every_day():
    """Makes a practitioner who gives the treatments and works 08:00–20:00 every day of the week, so free
    times exist whenever the tests run. They become the only active practitioner unless ``only=False``."""
    from booking.models import Practitioner, WorkingHours

    def make(*treatments, name="Dr Ada Test", only=True):
        if only:
            Practitioner.objects.update(active=False)
        person = Practitioner.objects.create(name=name)
        person.treatments.add(*treatments)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=person, weekday=day, start_time=time(8), end_time=time(20)) for day in range(7)
        )
        return person

    return make


@pytest.fixture
def practitioner(treatment, working_every_day):
    """The only active practitioner, giving the test module's ``treatment`` and working every day."""
    return working_every_day(treatment)


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """The admin's second factor stays on, as a clinic deploys it. ``force_login`` stands for a whole
    sign-in, password and authenticator code: for staff it also verifies an authenticator of theirs,
    as django-otp's login does (``verified=False``: the password alone). The sign-in itself is tested
    in tests/clinic/test_admin_protection.py."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.factories import authenticator

    force_login = Client.force_login

    def force_login_verified(self, user, backend=None, verified=True):
        force_login(self, user, backend)
        if user.is_staff and verified:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login_verified)


@pytest.fixture(autouse=True)
def _bot_checks_and_rate_limits_off(settings):
    """Tests send forms instantly and many times from one address, so by default the minimum fill time
    and the rate limits are off; tests/booking/test_bot_checks.py and tests/clinic/test_ratelimit.py
    turn them on. The honeypot stays on everywhere."""
    settings.CLINIC_FORM_MIN_SECONDS = 0
    settings.CLINIC_RATELIMIT_ENABLED = False


@pytest.fixture(autouse=True)
def _page_cache_per_test(settings, request):
    """Cached pages (clinic/cache.py) in process memory, fresh for each test: a test sees the page's own
    queries on a first visit, and nothing cached by one test (or outlasting a rollback) reaches the next.
    tests/clinic/test_page_cache.py checks the shared DatabaseCache itself."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid},
    }


@pytest.fixture(autouse=True)
def _english_to_start_with():
    """A request to a French page leaves French active in this thread (LocaleMiddleware activates the
    language of each request and leaves it): every test starts in English, as a fresh request would."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
