"""The French catalogs are complete and set as French is printed, and French pages use them."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import trans_real

from tests.french import catalog_entries

BASE = Path(settings.BASE_DIR)
# The project's catalog and every app's, found rather than listed, so that a new app's catalog is held
# to the same rules from its first entry.
CATALOGS = sorted(
    path.relative_to(BASE).as_posix()
    for path in BASE.glob("**/locale/fr/LC_MESSAGES/django.po")
    if not path.relative_to(BASE).parts[0].startswith((".", "node_modules", "staticfiles"))
)

# French sets a no-break space before a colon and inside « », a narrow one before ; ? ! (as
# clinic/typography.py does for the clinic's texts), so that a line never starts with the mark.
LOOSE_PUNCTUATION = re.compile(r"[ \u00a0][;?!]| :|« | »|\u202f:")


def test_the_project_and_every_app_have_a_french_catalog():
    assert {"locale/fr/LC_MESSAGES/django.po", "booking/locale/fr/LC_MESSAGES/django.po"} <= set(CATALOGS)


@pytest.mark.parametrize("catalog", CATALOGS)
@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_a_french_catalog_has_no_untranslated_or_fuzzy_message(catalog, which):
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(BASE / catalog)], capture_output=True, text=True, check=True
    )
    assert left.stdout == ""


@pytest.mark.parametrize("catalog", CATALOGS)
def test_a_french_catalog_keeps_its_punctuation_on_the_line_of_the_word_before(catalog):
    loose = [text for *_, texts in catalog_entries(BASE / catalog) for text in texts if LOOSE_PUNCTUATION.search(text)]
    assert loose == []


def test_a_message_in_two_catalogs_reads_the_same_french_in_both():
    """Django takes the first catalog's French for a message, so a second, different one is never shown
    where it was meant: a button named two ways on two pages."""
    french = {}
    for catalog in CATALOGS:
        for context, english, _, texts in catalog_entries(BASE / catalog):
            french.setdefault((context, english), {})[catalog] = texts
    assert {message: texts for message, texts in french.items() if len(set(texts.values())) > 1} == {}


def test_every_message_the_code_marks_has_its_french(tmp_path):
    """makemessages, run on a copy of the site, finds no marked message that French lacks: neither in
    the catalogs (where the checks above look) nor in Django's own, as they are merged at run time.
    A message marked in the code and never added to a catalog would show in English on a French page."""
    copy = tmp_path / "site"
    skipped = shutil.ignore_patterns(".git", ".venv", "node_modules", "staticfiles", "var", "media", "tests", "bench")
    shutil.copytree(BASE, copy, ignore=skipped)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location", "--no-obsolete", "-v0"],
        cwd=copy,
        check=True,
    )
    french = trans_real.translation("fr")._catalog
    lacking = []
    for catalog in copy.glob("**/locale/fr/LC_MESSAGES/django.po"):
        for context, english, plural, _ in catalog_entries(catalog):
            key = f"{context}\x04{english}" if context else english
            if ((key, 0) if plural else key) not in french:
                lacking.append(english)
    assert lacking == []


@pytest.mark.django_db
def test_a_french_page_speaks_french_and_the_english_one_english(client):
    french = client.get("/fr/").content.decode()
    english = client.get("/").content.decode()
    assert '<span class="site-book-short">Réserver</span>' in french
    assert 'aria-label="Langue"' in french
    assert '<span class="site-book-short">Book</span>' in english
