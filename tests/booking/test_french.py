"""The patient booking pages speak French under /fr/: none of the English texts of the booking catalog is
left on them, and the booking catalog is complete."""

import html
import re
import subprocess

import pytest

from tests.clinic.test_html_valid import nu_errors, vnu_command
from tests.french import BOOKING_CATALOG
from tests.french import english_left as english_in
from tests.public_pages import get_pages, link_pages, post_pages, post_states

CATALOG = BOOKING_CATALOG

pytestmark = pytest.mark.django_db


def page_text(response):
    """What a reader sees: the tags gone, entities decoded, spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text)


def french(path):
    return "/fr" + path


def english_left(text, *, content=()):
    """The booking catalog's English pieces on the page; ``content`` are the ones the clinic's own (English)
    content may say as well."""
    return english_in(text, catalogs=[CATALOG], content=content)


@pytest.fixture
def pages():
    everything = get_pages()
    links = link_pages()
    return {
        "book": (everything["book"], 200),
        "times": (everything["times"], 200),
        "details": (everything["details"], 200),
        "confirmation": (everything["confirmation"], 200),
        "email confirmation": (everything["email confirmation"], 200),
        "appointment": (everything["appointment"], 200),
        "move": (everything["move"], 200),
        "cancel confirmation": links["cancel confirmation"],
        "times with a time taken": links["times with a time taken"],
        "appointment link forged": links["appointment link forged"],
        "appointment link expired": links["appointment link expired"],
        "cancel of a cancelled appointment": links["cancel of a cancelled appointment"],
        "confirmation link forged": links["confirmation link forged"],
        "email confirmation expired": links["email confirmation expired"],
        "waitlist": (everything["waitlist"], 200),
        "treatments": (everything["treatments"], 200),
        "treatment": (everything["treatment"], 200),
        "waitlist offer": links["waitlist offer"],
        "waitlist offer taken": links["waitlist offer taken"],
        "waitlist offer lapsed": links["waitlist offer lapsed"],
        "waitlist offer forged": links["waitlist offer forged"],
    }


FRENCH_SHOWN = {
    "book": ["Prendre rendez-vous", "Étape 1 sur 3", "Choisissez un soin pour voir ses créneaux libres."],
    "times": ["Étape 2 sur 3", "Choisissez un horaire pour", "Les horaires sont à l’heure locale de la clinique."],
    "details": ["Vos coordonnées", "Votre rendez-vous", "Changer l’horaire"],
    "confirmation": ["Votre référence"],
    "email confirmation": ["Confirmez votre adresse e-mail", "Confirmer mon adresse e-mail"],
    "appointment": ["Votre rendez-vous", "Modifier votre rendez-vous", "Votre agenda"],
    "move": ["Choisir un autre horaire", "Votre horaire actuel", "Garder mon horaire actuel"],
    "appointment link forged": ["Ce lien n’est pas valide"],
    "appointment link expired": ["Ce lien a expiré"],
    "cancel of a cancelled appointment": ["Ce rendez-vous ne peut pas être modifié", "Retour à votre rendez-vous"],
    "confirmation link forged": ["Ce lien ne fonctionne pas"],
    "email confirmation expired": ["Cette demande a expiré", "n’est plus en attente"],
    "treatments": ["Nos soins"],
    "treatment": ["Durée :", "Qui pratique ce soin"],
    "waitlist": ["S’inscrire sur la liste d’attente pour", "Quand vous pourriez venir", "Premier jour où vous"],
    "waitlist offer": ["Un horaire s’est libéré", "Réserver cet horaire"],
    "waitlist offer taken": ["Désolé, quelqu’un d’autre a pris cet horaire", "Voir les créneaux libres pour"],
    "waitlist offer lapsed": ["Cette offre n’est plus valable", "vous était proposé pour un temps limité"],
    "waitlist offer forged": ["Ce lien ne fonctionne pas", "Prendre rendez-vous"],
    "cancel confirmation": ["Annuler votre rendez-vous ?", "Oui, annuler ce rendez-vous", "Non, le garder"],
}


@pytest.mark.parametrize("name", sorted(FRENCH_SHOWN))
def test_a_french_booking_page_shows_no_english_text_of_the_booking_catalog(client, pages, name):
    path, status = pages[name]
    response = client.get(french(path))
    assert response.status_code == status
    text = page_text(response)
    assert english_left(text) == []
    for shown in FRENCH_SHOWN[name]:
        assert shown in text


def test_the_french_page_for_a_time_just_taken_says_so_in_french(client, pages):
    path, status = pages["times with a time taken"]
    response = client.get(french(path))
    assert response.status_code == status
    text = page_text(response)
    assert english_left(text) == []
    assert "Erreur :" in text


def test_the_french_health_questions_page_shows_no_english_text_of_the_booking_catalog(client):
    path, data, status = post_states()["health questions"]
    response = client.post(french(path), data)
    assert response.status_code == status
    text = page_text(response)
    # A starting question's help, written by the clinic in English, is also the form's default help.
    assert english_left(text, content=["Leave it empty if there is nothing to say"]) == []
    assert "Questions de santé" in text
    assert "Votre réponse (facultatif)" in text
    assert "Étape 4 sur 4" in text


def test_the_english_booking_page_stays_in_english(client, pages):
    text = page_text(client.get(pages["book"][0]))
    assert "Step 1 of 3" in text
    assert "Choose a treatment to see its free times." in text


@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_the_booking_catalog_has_no_untranslated_or_fuzzy_message(which):
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(CATALOG)], capture_output=True, text=True, check=True
    )
    assert left.stdout == ""


def test_the_french_details_form_sent_empty_shows_its_labels_and_errors_in_french(client):
    path, data = post_pages()["details with errors"]
    response = client.post(french(path), data)
    assert response.status_code == 400
    text = page_text(response)
    assert english_left(text) == []
    for shown in [
        "Prénom",
        "Saisissez votre prénom.",
        "Adresse e-mail",
        "Vous concernant",
        "politique de confidentialité",
    ]:
        assert shown in text


def test_the_french_talk_first_page_shows_no_english_text_of_the_booking_catalog(client):
    path, data, status = post_states()["talk first"]
    response = client.post(french(path), data)
    assert response.status_code == status
    text = page_text(response)
    assert english_left(text) == []
    assert "Parlons-en avant de réserver" in text
    assert "Envoyer mon message" in text


def test_the_french_booking_pages_pass_the_nu_html_checker(client, pages, tmp_path):
    command = vnu_command()
    files = []
    for name, (path, status) in pages.items():
        response = client.get(french(path))
        assert response.status_code == status, name
        file = tmp_path / (name.replace(" ", "-") + ".html")
        file.write_bytes(response.content)
        files.append(str(file))
    assert nu_errors(command, files) == []


def test_the_confirmation_page_names_the_status_in_french(client, pages):
    page = client.get(french(pages["confirmation"][0])).content.decode()
    assert "Rendez-vous\u00a0: demandé" in page
    assert "Demandé" in page and "Requested" not in page
