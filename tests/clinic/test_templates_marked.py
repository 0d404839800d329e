"""Every text a patient reads in a template is marked for translation: a sentence left as plain text
would stay English on the French pages whatever the catalogs say.

Read from the templates' own source with Django's template lexer: what lies outside {% translate %},
{% blocktranslate %} and {% comment %}, tags and entities removed, and the attributes a reader or a
screen reader gets (alt, title, aria-label, placeholder), must hold no word. The admin's templates
are staff's, in English (Django translates its own), and so are the emails the clinic gets.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STAFF_ONLY = ("admin/", "emails/clinic_")
READ_ATTRIBUTES = re.compile(r'\b(?:alt|title|aria-label|placeholder|aria-description)="([^"{]*)"')
WORD = re.compile(r"[^\W\d_]{2,}")


def patient_templates():
    for path in sorted(TEMPLATES.rglob("*")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.suffix in (".html", ".txt") and not name.startswith(STAFF_ONLY):
            yield name


def plain_text(source):
    """The template's text outside translation and comment blocks."""
    depth, comment, pieces = 0, False, []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            depth += {"blocktranslate": 1, "blocktrans": 1, "endblocktranslate": -1, "endblocktrans": -1}.get(name, 0)
            comment = {"comment": True, "endcomment": False}.get(name, comment)
        elif token.token_type == TokenType.TEXT and not depth and not comment:
            pieces.append(token.contents)
    return "".join(pieces)


def unmarked(source):
    text = plain_text(source)
    found = READ_ATTRIBUTES.findall(text)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL)
    text = re.sub(r"&#?\w+;", " ", re.sub(r"<[^>]*>", " ", text))
    found += text.split("\n")
    return [piece.strip() for piece in found if WORD.search(piece)]


def test_the_check_finds_plain_text_and_unmarked_attributes():
    source = '{% load i18n %}<p>{% translate "Hello" %}</p><nav aria-label="Main">Book now</nav>{# x #}'
    assert unmarked(source) == ["Main", "Book now"]
    assert unmarked('{% blocktranslate %}Dear {{ name }},{% endblocktranslate %}<img alt="">') == []


@pytest.mark.parametrize("name", list(patient_templates()))
def test_every_text_a_patient_reads_is_marked_for_translation(name):
    assert unmarked((TEMPLATES / name).read_text()) == []
