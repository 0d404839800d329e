"""The French catalog is complete, and French pages use it."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_the_french_catalog_has_no_untranslated_or_fuzzy_message(which):
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(CATALOG)], capture_output=True, text=True, check=True
    )
    assert left.stdout == ""


@pytest.mark.django_db
def test_a_french_page_speaks_french_and_the_english_one_english(client):
    french = client.get("/fr/").content.decode()
    english = client.get("/").content.decode()
    assert '<span class="site-book-short">Réserver</span>' in french
    assert 'aria-label="Langue"' in french
    assert '<span class="site-book-short">Book</span>' in english
