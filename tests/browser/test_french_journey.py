"""A patient whose browser reads French books from the home page to the reference, and gets the email
in French, with links back to the French pages."""

import re

import pytest
from playwright.sync_api import expect

from booking.models import Appointment, MessageKind
from tests.booking.test_messages import send_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def french_page(browser, live_server, settings):
    settings.CLINIC_SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


def test_a_french_reader_books_from_the_home_page_and_gets_a_french_email(french_page, live_server):
    page = french_page
    page.goto("/")
    # The browser asks for French: the home page answers in French, at its French address.
    expect(page).to_have_url(f"{live_server.url}/fr/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.get_by_role("main").get_by_role("link", name="Prendre rendez-vous").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prendre rendez-vous")
    page.get_by_role("main").locator("a[href^='/fr/book/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Choisissez un horaire pour")

    page.locator("label.time-option").first.click()
    page.get_by_role("button", name="Continuer", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos coordonnées")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_role("textbox", name=re.compile(r"^Nom\b")).fill("Dupont")
    page.get_by_label("Adresse e-mail").fill("camille@example.fr")
    page.get_by_label("Numéro de téléphone").fill("+33 6 12 34 56 78")
    page.get_by_label("Oui, c’est ma première visite").check()
    page.get_by_role("checkbox", name=re.compile("J’accepte")).check()
    page.get_by_role("button", name="Continuer vers les questions de santé").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Questions de santé")
    for group in page.locator("fieldset:has(input[type=radio])").all():
        group.get_by_label("Non", exact=True).check()
    page.get_by_role("button", name="Demander ce rendez-vous").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande de rendez-vous est enregistrée")
    reference = page.locator(".booking-reference").inner_text()
    appointment = Appointment.objects.get(reference=reference)
    assert appointment.language == "fr"
    assert appointment.phone == "+33612345678"

    email = send_due()[MessageKind.REQUEST_RECEIVED]
    assert email.to == ["camille@example.fr"]
    assert reference in email.subject
    assert "rendez-vous" in email.subject.lower()
    assert email.body.startswith("Bonjour Camille")
    links = re.findall(rf"{re.escape(live_server.url)}(/\S*)", email.body)
    assert links and all(link.startswith("/fr/") for link in links), links

    # The link in the email opens the patient's page in French, whatever the browser prefers.
    page.goto(next(live_server.url + link for link in links if link.startswith("/fr/book/confirm-email/")))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
