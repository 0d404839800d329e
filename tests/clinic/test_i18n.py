"""English at the old addresses, French under /fr/: the visitor's choice, the switch, the alternates."""

import re

import pytest
from django.test import RequestFactory
from django.utils import translation

from booking.models import Treatment
from clinic.cache import page_address

pytestmark = pytest.mark.django_db

PAGES = ["/", "/faq/", "/contact/", "/privacy/", "/treatments/", "/book/"]


def html_lang(response):
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_keeps_its_english_address_and_has_a_french_one(client, url):
    english = client.get(url)
    french = client.get("/fr" + url)
    assert english.status_code == french.status_code == 200
    assert html_lang(english) == "en-gb"
    assert html_lang(french) == "fr"
    assert french["Content-Language"] == "fr"


def test_a_first_visit_from_a_browser_asking_for_french_is_sent_to_the_french_page(client):
    response = client.get("/faq/?q=peau", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    assert response.status_code == 302
    assert response["Location"] == "/fr/faq/?q=peau"
    assert "Accept-Language" in response["Vary"]


def test_a_browser_asking_for_english_or_nothing_stays_on_the_english_page(client):
    assert client.get("/faq/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").status_code == 200
    assert client.get("/faq/").status_code == 200


def test_the_admin_and_health_checks_are_never_sent_elsewhere(client):
    assert client.get("/healthz", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
    assert client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200


def test_every_page_offers_the_switch_with_each_language_named_in_its_own(client):
    page = client.get("/fr/faq/").content.decode()
    assert re.search(r'<button[^>]*lang="en-gb"[^>]*>English</button>', page)
    assert re.search(r'<button[^>]*lang="fr" aria-current="true"[^>]*>Français</button>', page)


def test_the_switch_keeps_the_visitor_on_the_same_page_in_the_other_language(client):
    page = client.get("/faq/?q=skin").content.decode()
    french_next = re.search(r'name="language" value="fr"><input type="hidden" name="next" value="([^"]+)"', page)
    assert french_next.group(1) == "/fr/faq/?q=skin"

    response = client.post("/language/", {"language": "fr", "next": french_next.group(1)})
    assert response.status_code == 302
    assert response["Location"] == "/fr/faq/?q=skin"
    # The choice holds on the next English address too...
    assert client.get("/contact/")["Location"] == "/fr/contact/"

    # ...and choosing English stays English, even in a browser that asks for French.
    response = client.post("/language/", {"language": "en-gb", "next": "/faq/"})
    assert response["Location"] == "/faq/"
    assert client.get("/contact/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200


def test_the_switch_works_from_a_cached_page_without_a_csrf_token(client):
    client.get("/faq/")
    client.handler.enforce_csrf_checks = True
    response = client.post("/language/", {"language": "fr", "next": "/fr/faq/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"


def test_the_switch_never_sends_a_visitor_to_another_site(client):
    response = client.post("/language/", {"language": "fr", "next": "https://evil.example/"})
    assert "evil.example" not in response["Location"]


def test_each_page_names_both_languages_and_the_english_one_as_default(client):
    page = client.get("/fr/faq/").content.decode()
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))
    assert alternates == {
        "en-gb": "http://testserver/faq/",
        "fr": "http://testserver/fr/faq/",
        "x-default": "http://testserver/faq/",
    }


def test_the_sitemap_lists_each_page_in_both_languages(client):
    treatment = Treatment.objects.active().first()
    sitemap = client.get("/sitemap.xml").content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert "http://testserver/faq/" in locations
    assert "http://testserver/fr/faq/" in locations
    assert f"http://testserver/fr{treatment.get_absolute_url()}" in locations
    assert 'hreflang="x-default"' in sitemap


def test_a_french_visitor_never_gets_the_cached_english_page_nor_the_reverse(client):
    for _ in range(2):  # the second round comes from the cache
        assert html_lang(client.get("/faq/")) == "en-gb"
        assert html_lang(client.get("/fr/faq/")) == "fr"


def test_the_page_cache_keys_one_address_by_language():
    request = RequestFactory().get("/faq/")
    with translation.override("fr"):
        french = page_address(request)
    with translation.override("en-gb"):
        english = page_address(request)
    assert french != english
