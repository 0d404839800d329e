"""The content and error pages in French: every text of the clinic's own catalog is translated and shown."""

import gettext
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template import loader
from django.test import Client
from django.utils import translation

CATALOG = Path(settings.BASE_DIR) / "clinic" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER_OR_TAG = re.compile(r"%\(\w+\)[sd]|<[^>]+>")
SHOWN_ATTRIBUTES = {"alt", "aria-label", "content", "title", "placeholder"}


class _Texts(HTMLParser):
    """Every text node and every attribute a visitor or a search engine reads, stripped."""

    def __init__(self):
        super().__init__()
        self.texts = []

    def handle_starttag(self, tag, attrs):
        self.texts += [value.strip() for name, value in attrs if name in SHOWN_ATTRIBUTES and value]

    def handle_data(self, data):
        if data.strip():
            self.texts.append(" ".join(data.split()))


def texts_of(html):
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def english_messages(tmp_path):
    """The catalog's English messages (both forms of a plural) whose French differs, each with its French forms."""
    compiled = tmp_path / "clinic.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(CATALOG)], check=True)
    with compiled.open("rb") as file:
        catalog = gettext.GNUTranslations(file)._catalog
    messages = {}
    for key, french in catalog.items():
        if isinstance(key, tuple):
            for english in key[0].split("\x00"):
                messages.setdefault(english, set()).add(french)
        elif key:
            messages.setdefault(key, set()).add(french)
    return {english: forms for english, forms in messages.items() if english not in forms}


def assert_no_english(html, messages):
    texts = texts_of(html)
    whole = " ".join(texts)
    for message in messages:
        pieces = [p.strip(" .:,") for p in PLACEHOLDER_OR_TAG.split(message)]
        long_pieces = [p for p in pieces if len(p) >= 12]
        if long_pieces:
            for piece in long_pieces:
                assert piece not in whole, f"English left on the French page: {piece!r}"
        elif not PLACEHOLDER_OR_TAG.search(message):
            # A short message: no text of the page is exactly it.
            assert message not in texts, f"English left on the French page: {message!r}"


@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_the_clinic_catalog_has_no_untranslated_or_fuzzy_message(which):
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(CATALOG)], capture_output=True, text=True, check=True
    )
    assert left.stdout == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status", "french"),
    [
        (
            "/fr/",
            200,
            ["La mésothérapie chez", "Ce que nous traitons", "Des questions avant de prendre rendez-vous\u202f?"],
        ),
        (
            "/fr/faq/",
            200,
            ["Mésothérapie\u00a0: questions et réponses", "Rechercher", "Retour en haut", "Mis à jour le"],
        ),
        ("/fr/faq/?q=cellulite", 200, ["Recherche\u00a0: cellulite", "correspond", "«\u00a0cellulite\u00a0»"]),
        ("/fr/faq/?q=zzzqqq", 200, ["Aucune question ne correspond à «\u00a0zzzqqq\u00a0»", "Essayez d’autres mots"]),
        ("/fr/contact/", 200, ["Nous contacter – ", "Contacter", "Nous joindre"]),
        ("/fr/privacy/", 200, ["Les cookies déposés par ce site", "Déposé pour\u00a0:", "Conservé\u00a0:", "jours"]),
        ("/fr/no-such-page/", 404, ["Nous n’avons pas trouvé cette page", "Accueil"]),
    ],
)
def test_a_french_content_page_shows_no_english_text_from_the_catalog(client, tmp_path, url, status, french):
    response = client.get(url)
    assert response.status_code == status
    html = response.content.decode()
    for text in french:
        assert text in html
    assert_no_english(html, english_messages(tmp_path))


@pytest.mark.parametrize(
    ("template", "french"),
    [
        ("500.html", "Désolés, une erreur est survenue de notre côté"),
        ("503.html", "Le site est momentanément indisponible"),
        ("400.html", "Nous n’avons pas pu accepter cette demande"),
    ],
)
def test_the_error_pages_without_a_request_speak_french_when_french_is_active(tmp_path, template, french):
    with translation.override("fr"):
        html = loader.render_to_string(template)
    assert french in html
    assert '<html lang="fr">' in html
    assert 'href="/fr/"' in html
    assert_no_english(html, english_messages(tmp_path))
    with translation.override("en-gb"):
        assert '<html lang="en">' in loader.render_to_string(template)


@pytest.mark.django_db
def test_an_expired_form_on_a_french_page_is_explained_in_french(tmp_path):
    response = Client(enforce_csrf_checks=True).post("/fr/contact/", {})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Le formulaire a expiré" in html
    assert "Recommencer la prise de rendez-vous" in html
    assert_no_english(html, english_messages(tmp_path))


@pytest.mark.django_db
@pytest.mark.parametrize(("minutes", "french"), [(1, "Patientez 1 minute puis"), (5, "Patientez 5 minutes puis")])
def test_the_too_many_attempts_page_speaks_french_on_a_french_address(rf, tmp_path, minutes, french):
    request = rf.get("/fr/book/")
    with translation.override("fr"):
        request.LANGUAGE_CODE = "fr"
        html = loader.render_to_string("429.html", {"minutes": minutes}, request=request)
    assert "Trop de tentatives" in html
    assert french in html
    assert_no_english(html, english_messages(tmp_path))
