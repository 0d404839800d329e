"""The site as a clinic deploys it: DEBUG off, the admin's second factor on, PostgreSQL and the
shipped cache (the DatabaseCache tables). A visitor with no cookie costs no query on a page seen
before, and nothing in the request (the second-factor check least of all) touches a session."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import Treatment
from clinic.admin_site import admin_2fa_required
from clinic.cache import memory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_PAGES = ["/", "/faq/", "/book/", "/treatments/", "/treatments/hair-loss/", "/faq/?q=kidneys"]


@pytest.fixture
def shipped_cache(settings):
    """The cache settings.py builds (PostgreSQL tables), not the per-test memory of tests/conftest.py."""
    from clinic import settings as clinic_settings

    settings.CACHES = clinic_settings.CACHES
    memory.reset()
    yield
    memory.reset()


def test_the_tests_run_with_debug_off_and_the_second_factor_on():
    assert django_settings.DEBUG is False
    assert admin_2fa_required()


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_a_visitors_second_view_costs_no_query_sets_no_cookie_and_varies_on_none(shipped_cache, url):
    assert django_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    visitor = Client()
    assert visitor.get(url).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = visitor.get(url)

    assert again.status_code == 200
    assert len(queries) == 0, [query["sql"] for query in queries]
    assert not again.cookies
    assert "Cookie" not in again.get("Vary", "")


def test_a_signed_in_staff_member_gets_fresh_private_pages(shipped_cache, admin_client):
    Client().get("/")  # cached for visitors
    treatment = Treatment.objects.active().first()
    Treatment.objects.filter(pk=treatment.pk).update(name="Renamed without the admin")

    response = admin_client.get("/")

    assert response.status_code == 200
    assert "Renamed without the admin" in response.content.decode()  # rendered for them, not the kept page
    assert "Renamed without the admin" not in Client().get("/").content.decode()  # visitors: the kept page


def test_migrate_alone_on_a_fresh_database_serves_every_public_page(tmp_path):
    """No createcachetable, no other step: what a deploy that follows only `migrate` gets."""
    base = dict(django_settings.DATABASES["default"])
    name = f"clinic_fresh_{os.getpid()}"
    admin = psycopg2.connect(dbname="postgres", user=base["USER"], host=base["HOST"] or None, port=base["PORT"] or None)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        host = base["HOST"] or "127.0.0.1"
        env = os.environ | {
            "DATABASE_URL": f"postgres://{base['USER']}@{host}:{base['PORT'] or 5432}/{name}",
            "DJANGO_SECRET_KEY": "fresh-database-" + "k" * 40,
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_DEBUG": "0",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT, timeout=300)
        script = (
            "import django, json, sys; django.setup()\n"
            "from django.conf import settings\n"
            "settings.STORAGES['staticfiles'] = {'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}\n"
            "from django.test import Client\n"
            f"print(json.dumps({{url: Client().get(url).status_code for url in {PUBLIC_PAGES!r}}}))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=env | {"DJANGO_SETTINGS_MODULE": "clinic.settings"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        statuses = json.loads(result.stdout.strip().splitlines()[-1])
        assert statuses == dict.fromkeys(PUBLIC_PAGES, 200)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_visitors_second_view_of_the_free_times_costs_one_small_read_and_is_the_same_page(shipped_cache):
    """Free times change with every booking, in any worker: the page seen again costs exactly the read
    of the shared availability version, and nothing else (no session, no URL resolution, no rendering)."""
    url = "/book/hair-loss/"
    visitor = Client()
    first = visitor.get(url)
    assert first.status_code == 200
    assert 'name="start"' in first.content.decode()

    with CaptureQueriesContext(connection) as queries:
        again = visitor.get(url)

    assert len(queries) == 1, [query["sql"] for query in queries]
    assert "clinic_cache_default" in queries[0]["sql"]
    assert again.content == first.content
    assert {k: v for k, v in again.headers.items() if k != "X-Request-ID"} == {
        k: v for k, v in first.headers.items() if k != "X-Request-ID"
    }
    assert not again.cookies
    assert "Cookie" not in again.get("Vary", "")
