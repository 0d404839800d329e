"""The insights page for a clinic manager whose browser asks for French: its titles, tables, charts,
numbers, dates and errors in French, and none of the insights catalog's English left."""

import csv
import io
import re
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from booking.models import Treatment
from tests.admin_language import french_staff  # noqa: F401
from tests.french import english_left
from tests.insights.test_views import PAGE, appointments, manager, period

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "booking" / "insights" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
NO_BREAK = "\u00a0"


def test_the_insights_page_speaks_french_with_french_numbers_and_dates(french_staff):  # noqa: F811
    manager(french_staff)
    appointments(14)  # Monday 5 January 2026, 09:00 to 22:00: two of each status

    page = unescape(french_staff.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10))).content.decode())

    assert "<h1>Statistiques</h1>" in page
    assert 'aria-label="Période"' in page and '<button type="submit" class="button">Afficher</button>' in page
    assert f"Du 1 janvier 2026 au 10 janvier 2026{NO_BREAK}: <strong>14</strong> demandes." in page
    assert f"Délai moyen entre la demande et la confirmation{NO_BREAK}: <strong>24,0 heures</strong>" in page
    assert f'<th scope="row">Confirmé</th><td>6</td><td>43{NO_BREAK}%</td>' in page
    assert '<th scope="row">29 déc. 2025</th><td>14</td>' in page
    assert '<th scope="row">lundi</th><td>14</td>' in page
    row = "<td>14</td><td>6</td><td>2</td><td>2</td><td>2</td><td>2</td>"
    assert f'<th scope="row">{Treatment.objects.get(slug="hair-loss").name_fr}</th>{row}' in page
    assert '<title id="chart-weekdays-title">Séances par jour de la semaine</title>' in page
    assert f"Diagramme en barres. lundi{NO_BREAK}: 14, mardi{NO_BREAK}: 0" in page
    assert "<caption>Suite donnée aux demandes (statut actuel) (tableau)</caption>" in page
    assert f"Télécharger «{NO_BREAK}Demandes par semaine{NO_BREAK}» au format CSV" in page
    assert english_left(page, catalogs=[CATALOG]) == []


def test_a_treatment_without_its_french_name_is_counted_under_its_english_one(french_staff):  # noqa: F811
    manager(french_staff)
    appointments(3)
    Treatment.objects.filter(slug="hair-loss").update(name_fr="")

    page = french_staff.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10))).content.decode()

    english = Treatment.objects.get(slug="hair-loss").name_en_gb
    assert f'<th scope="row">{english}</th><td>3</td>' in page


def test_an_empty_period_and_its_csv_speak_french(french_staff):  # noqa: F811
    manager(french_staff)

    page = unescape(french_staff.get(PAGE, period(date(2020, 1, 1), date(2020, 1, 31))).content.decode())
    response = french_staff.get(PAGE, period(date(2020, 1, 1), date(2020, 1, 31), download="outcomes"))

    assert "Aucun rendez-vous n’a été demandé sur cette période." in page
    assert "Aucune demande de cette période n’a été confirmée." in page
    assert english_left(page, catalogs=[CATALOG]) == []
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Suite donnée", "Demandes", "Part du total"]
    assert ["Expiré", "0", "–"] in rows


@pytest.mark.parametrize(
    "query, message",
    [
        (
            {"first_day": "2026-02-01", "last_day": "2026-01-01"},
            "Le dernier jour doit être le même que le premier jour",
        ),
        ({"first_day": "2020-01-01", "last_day": "2026-01-01"}, "Choisissez une période de trois ans au plus."),
        ({"first_day": "hier", "last_day": "2026-01-01"}, f"Premier jour{NO_BREAK}: Saisissez une date valide."),
    ],
)
def test_a_period_that_cannot_be_shown_is_explained_in_french(french_staff, query, message):  # noqa: F811
    manager(french_staff)

    response = french_staff.get(PAGE, query)

    page = unescape(response.content.decode())
    assert response.status_code == 400
    errors = re.search(r'<div class="errornote" id="period-errors" role="alert">(.*?)</div>', page, re.S).group(1)
    assert f"Ces chiffres n’ont pas pu être affichés{NO_BREAK}:" in errors and message in errors
    assert "Choisissez de nouveau la période ci-dessous." in errors
    assert re.search(r'<label for="id_first_day">Premier jour\s*:</label>', page.replace(NO_BREAK, " "))
    assert english_left(page, catalogs=[CATALOG]) == []
