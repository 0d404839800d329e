"""The FAQ in French under /fr/: the clinic's French questions and answers, the English ones where French
is still blank, and a search that stems French words on French pages and English ones on English pages."""

import json
import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from faq.models import Category, Question

pytestmark = pytest.mark.django_db


def text_of(response):
    assert response.status_code == 200
    # Plain spaces only: the no-break spaces of French typography are part of what the patient reads.
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def found(client, address):
    """The questions a search page lists, as their anchors (slugs), best first."""
    html = client.get(address).content.decode()
    return re.findall(r'<article[^>]*id="([^"]+)"', html)


def test_the_french_faq_shows_the_clinics_french_questions_and_answers(client):
    text = text_of(client.get("/fr/faq/"))

    assert "À quoi sert la mésothérapie\u202f?" in text
    assert "Comment se déroule une séance de mésothérapie\u202f?" in text
    assert "comparable à un pincement ou à une piqûre d’abeille" in text
    assert "Mésothérapie" in text  # the category
    assert "What are the uses of mesotherapy?" not in text


def test_the_english_faq_stays_in_english(client):
    text = text_of(client.get("/faq/"))

    assert "What are the uses of mesotherapy?" in text
    assert "À quoi sert la mésothérapie" not in text


def test_a_question_not_yet_in_french_shows_its_english_text_on_the_french_faq(client):
    Question.objects.filter(slug="procedure").update(question_fr="", answer_fr=None)
    Category.objects.update(name_fr="")

    text = text_of(client.get("/fr/faq/"))

    assert "What is the procedure of Mesotherapy?" in text
    assert "The pain of the treatment is like a pinch or bee sting." in text
    assert "À quoi sert la mésothérapie\u202f?" in text  # the others keep their French
    assert "Mesotherapy" in text


def test_the_french_pages_structured_data_gives_search_engines_the_french_questions(client):
    html = client.get("/fr/faq/").content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))

    names = [entity["name"] for entity in data["mainEntity"]]
    assert names[0] == "À quoi sert la mésothérapie\u202f?"
    assert data["mainEntity"][0]["acceptedAnswer"]["text"].startswith("La mésothérapie est pratiquée en Europe")


def test_the_french_search_finds_a_french_word_in_another_form(client):
    # « injections » in the query, « injecter » and « injections » in the answers: the French stemmer.
    assert "procedure" in found(client, "/fr/faq/?q=injections")
    assert "uses-of-mesotherapy" in found(client, "/fr/faq/?q=injection")
    # « douleurs » finds the answer that says « la douleur ».
    assert found(client, "/fr/faq/?q=douleurs") == ["uses-of-mesotherapy"]


def test_the_french_search_ranks_a_word_in_the_question_first(client):
    assert found(client, "/fr/faq/?q=graisse")[0] in {"mesotherapy-for-fat-loss", "what-happens-to-dissolved-fat"}


def test_the_french_search_reads_the_french_text_not_the_english(client):
    assert found(client, "/fr/faq/?q=bruising") == []
    assert found(client, "/fr/faq/?q=bleus") == ["aftercare-and-recovery"]


def test_the_french_search_finds_a_question_not_yet_in_french_by_its_english_text(client):
    Question.objects.filter(slug="procedure").update(question_fr="", answer_fr="")

    assert "procedure" in found(client, "/fr/faq/?q=Meso-gun")


def test_the_english_search_still_stems_english_words(client):
    assert "procedure" in found(client, "/faq/?q=injections")
    assert found(client, "/faq/?q=bruises") == ["aftercare-and-recovery"]
    assert found(client, "/faq/?q=bleus") == []


def test_a_french_text_staff_write_is_searchable_at_once(client):
    Question.objects.filter(slug="procedure").update(answer_fr="Nous utilisons une aiguille ultrafine.")

    assert found(client, "/fr/faq/?q=aiguilles") == ["procedure"]


def test_the_french_search_box_is_labelled_in_french(client):
    html = client.get("/fr/faq/").content.decode()

    assert re.search(r"<label[^>]*>\s*Rechercher dans les questions", html)
    assert "Search the questions" not in html


@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_the_faq_catalog_has_no_untranslated_or_fuzzy_message(which):
    catalog = Path(settings.BASE_DIR) / "faq" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(catalog)], capture_output=True, text=True, check=True
    ).stdout
    assert left == ""
