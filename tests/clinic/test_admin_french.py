"""The staff's admin in French: the clinic's, the FAQ's and the sign-in pages read French for a member
of staff whose browser asks for it, and the switch in the admin's header changes its language."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from faq.models import Category, Question
from tests.factories import authenticator
from tests.french import english_left

pytestmark = pytest.mark.django_db

CLINIC_CATALOG = Path(settings.BASE_DIR) / "clinic" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
FAQ_CATALOG = Path(settings.BASE_DIR) / "faq" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
CATALOGS = [CLINIC_CATALOG, FAQ_CATALOG]
PASSWORD = "correct-horse-battery-staple-42"
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
SWITCH_FORM = re.compile(
    r'<form action="/language/" method="post"><input type="hidden" name="language" value="(?P<language>[\w-]+)">'
    r'<input type="hidden" name="next" value="(?P<next>[^"]*)"><button type="submit" lang="(?P=language)"'
    r'(?P<current> aria-current="true")?>(?P<name>[^<]+)</button></form>'
)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("nurse", "nurse@example.com", PASSWORD)


@pytest.fixture
def french_staff(staff):
    """A member of staff signed in (password and code), on a browser that prefers French."""
    client = Client(headers=FRENCH_BROWSER)
    client.force_login(staff)
    return client


@pytest.fixture
def two_factor(settings):
    """Production's rule: the test settings switch it off for the rest of the suite."""
    settings.CLINIC_ADMIN_2FA = True
    settings.DEBUG = False


@pytest.fixture
def untranslated_question():
    return Question.objects.create(
        category=Category.objects.order_by("position").first(),
        question_en_gb="Can I drive home after a session?",
        slug="drive-home",
        answer_en_gb="Yes, most patients drive themselves home.",
        published=True,
    )


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_french(html, *french):
    for text in french:
        assert text in html
    assert english_left(html, catalogs=CATALOGS) == []


def test_the_admin_index_reads_french(french_staff):
    html = page(french_staff, reverse("admin:index"))
    assert '<html lang="fr"' in html
    assert_french(
        html,
        "Administration de la clinique",
        "Authentification à deux facteurs</a>",
        '<h2 id="booking-summary-heading">Rendez-vous</h2>',
        "Réserver pour un patient",
        "Coordonnées de la clinique",
    )


def test_the_clinic_details_page_reads_french(french_staff):
    html = page(french_staff, reverse("admin:clinic_clinicdetails_change", args=[1]))
    assert_french(
        html,
        "Apparence du site",
        "Règles de réservation",
        "Délai minimum (heures)",
        "Les patients ne peuvent pas réserver un horaire plus proche que ce délai.",
        "Les images envoyées sont vérifiées et redimensionnées",
        "Couleur d’accentuation",
        "Horaires d’ouverture [fr]",
    )


def test_the_faq_question_list_reads_french_with_its_french_column_and_filter(french_staff, untranslated_question):
    html = page(french_staff, reverse("admin:faq_question_changelist"))
    assert_french(
        html,
        '<div class="text"><span>Français</span></div>',  # the column's title
        "Par version française",
        "Manquant (anglais affiché)",
        "Manquant – anglais affiché",
        "Traduit",
        "Publier les questions sélectionnées",
        "Aperçu tel que les patients le voient",
    )
    missing = page(french_staff, reverse("admin:faq_question_changelist") + "?french=missing")
    assert "Can I drive home after a session?" in missing
    assert "What is the procedure" not in missing


def test_a_faq_question_page_says_in_french_what_is_not_yet_in_french(french_staff, untranslated_question):
    html = page(french_staff, reverse("admin:faq_question_change", args=[untranslated_question.pk]))
    assert_french(
        html,
        "Pas encore en français\u00a0: question, réponse. Les pages en français affichent le texte anglais",
        "La question telle qu’un patient la poserait.",
        "Seules les questions publiées apparaissent sur le site.",
        'class="fieldset-heading">Suivi</h2>',
        "Réponse [fr]",
        "Créée le",
    )


def test_publishing_questions_is_reported_in_french_with_the_right_plural(french_staff, untranslated_question):
    url = reverse("admin:faq_question_changelist")
    Question.objects.filter(slug="procedure").update(published=False)
    untranslated_question.published = False
    untranslated_question.save()
    ids = [untranslated_question.pk, Question.objects.get(slug="procedure").pk]
    html = french_staff.post(url, {"action": "publish", "_selected_action": ids}, follow=True).content.decode()
    assert "2 questions publiées." in html
    html = french_staff.post(url, {"action": "unpublish", "_selected_action": ids[:1]}, follow=True).content.decode()
    assert "1 question retirée de la publication." in html


def test_the_sign_in_page_reads_french(two_factor):
    html = page(Client(headers=FRENCH_BROWSER), reverse("admin:login"))
    assert_french(
        html,
        "Code de votre application d’authentification\u00a0:",
        "ou l’un de vos codes de secours si vous avez perdu votre téléphone",
        'value="Se connecter"',
    )
    # Staff can choose the admin's language before they sign in.
    assert SWITCH_FORM.search(html)


def test_a_wrong_code_at_sign_in_is_explained_in_french(two_factor, staff):
    authenticator(staff)
    client = Client(headers=FRENCH_BROWSER)
    data = {"username": "nurse", "password": PASSWORD, "otp_token": "000000", "next": "/admin/"}
    response = client.post(reverse("admin:login"), data)
    assert response.status_code == 200
    assert_french(
        response.content.decode(),
        "Ce code est incorrect ou a déjà été utilisé. Saisissez le code que votre application affiche maintenant",
    )


def test_a_privacy_notice_version_is_named_in_french(french_staff):
    html = page(french_staff, reverse("admin:clinic_privacynotice_change", args=[1]))
    assert "Politique de confidentialité, version 1" in html
    assert_french(html, "La politique telle que les patients la lisent.")


def test_the_two_factor_set_up_page_reads_french(two_factor, staff):
    client = Client(headers=FRENCH_BROWSER)
    client.force_login(staff, verified=False)
    html = page(client, reverse("two_factor_enrol"))
    assert_french(
        html,
        "<title>Configurer l’authentification à deux facteurs",
        "Ouvrez l’application d’authentification",
        "Code QR pour ajouter ce site à votre application d’authentification",
        'value="Activer l’authentification à deux facteurs"',
        "Se déconnecter et configurer plus tard",
    )
    html = client.post(reverse("two_factor_enrol"), {"otp_token": "12"}).content.decode()
    assert "Saisissez les six chiffres affichés par votre application d’authentification." in html


def test_the_two_factor_page_counts_the_recovery_codes_left_in_french(french_staff, staff):
    from clinic.two_factor.services import recovery_codes_make

    recovery_codes_make(user=staff)
    html = page(french_staff, reverse("two_factor_manage"))
    assert_french(html, "Il vous reste <strong>10</strong> codes de secours inutilisés.", "Générer de nouveaux codes")


def switch(html, language):
    """The switch's form for ``language`` on the page: where it posts back to, and whether it is the current one."""
    forms = {match["language"]: match for match in SWITCH_FORM.finditer(html)}
    assert [match["name"] for match in forms.values()] == ["English", "Français"]
    return forms[language]


def test_staff_switch_the_admin_to_french_and_back_to_english(client, staff):
    client.force_login(staff)
    changelist = reverse("admin:faq_question_changelist")
    html = page(client, changelist)
    assert "Publish the selected questions" in html
    assert switch(html, "en-gb")["current"] and not switch(html, "fr")["current"]
    french = switch(html, "fr")
    assert french["next"] == changelist

    response = client.post(reverse("set_language"), {"language": "fr", "next": french["next"]})
    assert response.status_code == 302 and response["Location"] == changelist
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    html = page(client, changelist)
    assert '<html lang="fr"' in html
    assert_french(html, "Publier les questions sélectionnées", "Par version française")
    assert switch(html, "fr")["current"]
    html = page(client, reverse("admin:index"))
    assert_french(html, "Administration de la clinique", "Rendez-vous")

    english = switch(html, "en-gb")
    response = client.post(reverse("set_language"), {"language": "en-gb", "next": english["next"]})
    assert response["Location"] == reverse("admin:index")
    html = page(client, reverse("admin:index"))
    assert "Clinic administration" in html and "Administration de la clinique" not in html
    assert "Publish the selected questions" in page(client, changelist)


def test_the_sign_in_paused_page_reads_french(staff):
    client = Client(headers=FRENCH_BROWSER)
    for _ in range(5):
        response = client.post(reverse("admin:login"), {"username": "nurse", "password": "guess", "next": "/admin/"})
    assert response.status_code == 429
    assert_french(
        response.content.decode(),
        "<h1>Connexion suspendue</h1>",
        "Il y a eu trop de tentatives de connexion infructueuses.",
    )
