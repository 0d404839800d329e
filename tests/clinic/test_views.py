import re
import subprocess
import sys

import pytest
from django.db import DatabaseError
from django.urls import reverse

from booking.models import Treatment
from clinic.models import ClinicDetails

pytestmark = pytest.mark.django_db


def test_home_presents_mesotherapy_the_treatments_and_the_booking_call(client):
    html = client.get(reverse("home")).content.decode()
    assert "<h1" in html and html.count("<h1") == 1
    assert "injection of a mixture of medications" in html
    for treatment in Treatment.objects.active():
        assert treatment.name in html
        assert treatment.get_absolute_url() in html
    assert "Hair loss" in html and "Cellulite reduction" in html
    assert f'href="{reverse("booking:book")}"' in html


def test_inactive_treatments_are_not_presented(client):
    Treatment.objects.filter(slug="hair-loss").update(active=False)
    assert "Hair loss" not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("booking:treatment", args=["hair-loss"])).status_code == 404


def test_clinic_details_edited_by_staff_show_in_footer_and_contact_page(client):
    ClinicDetails.objects.filter(pk=1).update(
        name="Harbour Skin Clinic",
        phone="+44 20 7946 0000",
        address="1 Quay Street\nBristol",
        opening_hours="Mon-Fri 9-18",
    )
    for url in (reverse("faq:index"), reverse("contact")):
        html = client.get(url).content.decode()
        assert "Harbour Skin Clinic" in html
        assert "+44 20 7946 0000" in html
        assert "1 Quay Street<br>Bristol" in html
        assert "Mon-Fri 9-18" in html


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from clinic import views

    def broken_cursor():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_admin(client):
    body = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in body
    assert "Sitemap: http://testserver/sitemap.xml" in body


def test_the_site_icon_shows_in_the_tab_and_for_browsers_that_ask_for_favicon_ico(client):
    # Browsers, and the admin's pages, ask for /favicon.ico by name: a 404 there is a console error.
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an icon file, not a page
    # Its name has no hash, so a new icon must reach returning visitors soon.
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])
    assert 0 < max_age <= 86400 and "immutable" not in response["Cache-Control"]

    link = re.search(r'<link rel="icon" href="([^"]+)"', client.get(reverse("home")).content.decode())
    assert link, "the home page links no icon"
    linked = client.get(link[1])
    assert linked.status_code == 200
    assert linked["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(linked.streaming_content)


def test_sitemap_lists_public_pages_and_treatments_only(client):
    body = client.get("/sitemap.xml").content.decode()
    assert "http://testserver/faq/" in body
    assert "http://testserver/treatments/hair-loss/" in body
    assert "/admin" not in body


def test_unknown_page_gets_the_sites_own_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_wrong_method_on_a_page_is_refused_with_405(client):
    assert client.post(reverse("faq:index")).status_code in (403, 405)
    assert client.delete(reverse("home")).status_code == 405


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_SECRET_KEY": "", "DJANGO_ALLOWED_HOSTS": "x"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "k" * 50, "DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must be set"),
    ],
)
def test_production_start_without_secret_or_hosts_stops_with_a_clear_message(env, message):
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.settings"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "0", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
