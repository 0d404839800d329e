"""Staff set up their own second factor: enrolment, recovery codes, a lost phone, a superuser's reset."""

import re
from base64 import b32decode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import authenticator_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"
LOGIN = "/admin/login/"
ENROL = "/admin/two-factor/set-up/"
CODES = "/admin/two-factor/recovery-codes/"
MANAGE = "/admin/two-factor/"


@pytest.fixture(autouse=True)
def two_factor(settings):
    settings.CLINIC_ADMIN_2FA = True
    settings.DEBUG = False
    return settings


@pytest.fixture
def newcomer(django_user_model):
    return django_user_model.objects.create_user("newbie", "newbie@example.com", PASSWORD, is_staff=True)


def password_login(client, username="newbie", password=PASSWORD, **fields):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/", **fields})


def secret_on(page_html):
    return "".join(re.search(r'class="two-factor-secret">([A-Z2-7 ]+)<', page_html).group(1).split())


def code_for(secret, offset=0):
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, t0=-30 * offset):06d}"


def enrolled(client):
    """A newcomer's whole enrolment: password, the page's secret, the first code; the recovery codes shown."""
    assert password_login(client)["Location"] == ENROL
    secret = secret_on(client.get(ENROL).content.decode())
    response = client.post(ENROL, {"otp_token": code_for(secret)})
    assert response.status_code == 302 and response["Location"] == CODES
    html = client.get(CODES).content.decode()
    return secret, re.findall(r"<li><code>([a-z0-9]+)</code></li>", html)


def test_a_newcomer_signs_in_with_the_password_to_the_enrolment_page_and_nothing_else(client, newcomer):
    response = password_login(client)
    assert response.status_code == 302 and response["Location"] == ENROL
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html and "QR code" in html
    assert len(secret_on(html)) >= 16
    for elsewhere in ("/admin/", "/admin/booking/appointment/", MANAGE, CODES):
        assert client.get(elsewhere)["Location"] == ENROL
    assert TOTPDevice.objects.get(user=newcomer).confirmed is False


def test_the_secret_stays_the_same_when_the_page_is_shown_again(client, newcomer):
    password_login(client)
    assert secret_on(client.get(ENROL).content.decode()) == secret_on(client.get(ENROL).content.decode())


def test_the_first_right_code_turns_the_authenticator_on_and_shows_recovery_codes_once(client, newcomer):
    secret, codes = enrolled(client)
    assert len(codes) >= 8 and len(set(codes)) == len(codes)
    assert TOTPDevice.objects.get(user=newcomer).confirmed is True
    download = client.get(CODES + "download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert all(code in download.content.decode() for code in codes)
    client.post(CODES)
    assert client.get("/admin/").status_code == 200
    later = client.get(CODES).content.decode()
    assert not any(code in later for code in codes)
    assert "shown once" in later


def test_a_wrong_or_badly_typed_code_is_refused_with_a_message_and_the_device_stays_off(client, newcomer):
    password_login(client)
    secret = secret_on(client.get(ENROL).content.decode())
    wrong = f"{(int(code_for(secret)) + 1) % 1_000_000:06d}"
    for token, message in [(wrong, "That code is not right"), ("12ab", "Enter the six digits"), ("", "required")]:
        response = client.post(ENROL, {"otp_token": token})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert f'value="{token}"' in response.content.decode()
    assert not TOTPDevice.objects.get(user=newcomer).confirmed
    assert client.get("/admin/")["Location"] == ENROL


def test_wrong_codes_at_enrolment_lock_out_like_wrong_passwords(client, newcomer):
    password_login(client)
    secret = secret_on(client.get(ENROL).content.decode())
    wrong = f"{(int(code_for(secret)) + 1) % 1_000_000:06d}"
    statuses = [client.post(ENROL, {"otp_token": wrong}).status_code for _ in range(5)]
    assert statuses[-1] == 429
    assert client.post(ENROL, {"otp_token": code_for(secret)}).status_code == 429
    assert password_login(Client()).status_code == 429


def test_wrong_codes_at_sign_in_lock_out_like_wrong_passwords(client, newcomer):
    enrolled(Client())
    user = get_user_model().objects.get(username="newbie")
    right = authenticator_code(user)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    statuses = [password_login(client, otp_token=wrong).status_code for _ in range(5)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429
    assert password_login(client, otp_token=authenticator_code(user)).status_code == 429


def test_a_recovery_code_signs_in_once(newcomer):
    _, codes = enrolled(Client())
    first = Client()
    assert password_login(first, otp_token=codes[0]).status_code == 302
    assert first.get("/admin/").status_code == 200
    again = password_login(Client(), otp_token=codes[0])
    assert again.status_code == 200
    assert "was used already" in again.content.decode()
    assert StaticToken.objects.filter(device__user=newcomer).count() == len(codes) - 1


def test_a_password_alone_no_longer_signs_in_once_a_second_factor_is_set_up(newcomer):
    enrolled(Client())
    client = Client()
    response = password_login(client)
    assert response.status_code == 200
    assert client.get(ENROL)["Location"].startswith(LOGIN)


def test_new_recovery_codes_need_the_password_and_retire_the_old_ones(client, newcomer):
    _, old = enrolled(client)
    wrong = client.post(MANAGE, {"action": "new_codes", "password": "not it"})
    assert wrong.status_code == 400 and "That is not your password" in wrong.content.decode()
    assert client.post(MANAGE, {"action": "new_codes", "password": PASSWORD})["Location"] == CODES
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", client.get(CODES).content.decode())
    assert new and not set(new) & set(old)
    # New code first: after a wrong one, django-otp makes the next try wait a moment.
    assert password_login(Client(), otp_token=new[1]).status_code == 302
    assert password_login(Client(), otp_token=old[1]).status_code == 200


def test_a_tampered_form_gets_a_message_not_an_error(client, newcomer):
    enrolled(client)
    response = client.post(MANAGE, {"action": "delete-everyone", "password": PASSWORD})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()


def test_removing_a_lost_authenticator_needs_the_password_then_enrols_anew(client, newcomer):
    old_secret, _ = enrolled(client)
    assert client.post(MANAGE, {"action": "remove", "password": "not it"}).status_code == 400
    response = client.post(MANAGE, {"action": "remove", "password": PASSWORD})
    assert response["Location"] == ENROL
    assert not StaticDevice.objects.filter(user=newcomer).exists()
    assert client.get("/admin/")["Location"] == ENROL
    new_secret = secret_on(client.get(ENROL).content.decode())
    assert new_secret != old_secret
    assert password_login(Client(), otp_token=code_for(old_secret)).status_code == 302  # password: to enrolment
    assert client.post(ENROL, {"otp_token": code_for(new_secret)})["Location"] == CODES


def test_a_superuser_resets_a_members_second_factor_and_the_admin_log_says_so(client, newcomer, django_user_model):
    enrolled(Client())
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    assert password_login(client, username="boss", otp_token=authenticator_code(boss)).status_code == 302
    changelist = reverse("admin:auth_user_changelist")
    response = client.post(changelist, {"action": "second_factor_reset", "_selected_action": [newcomer.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=newcomer).exists()
    assert not StaticDevice.objects.filter(user=newcomer).exists()
    entry = LogEntry.objects.get(object_id=str(newcomer.pk))
    assert "Reset two-factor sign-in" in entry.get_change_message() and entry.user == boss
    assert password_login(Client())["Location"] == ENROL


def test_staff_who_are_not_superusers_cannot_reset_anyone(client, newcomer, django_user_model):
    from django.contrib.auth.models import Permission

    enrolled(Client())
    clerk = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    assert password_login(client, username="clerk", otp_token=authenticator_code(clerk)).status_code == 302
    client.post(
        reverse("admin:auth_user_changelist"), {"action": "second_factor_reset", "_selected_action": [newcomer.pk]}
    )
    assert TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()


def test_visitors_without_a_session_are_sent_to_the_login(client):
    for url in (ENROL, MANAGE, CODES):
        assert client.get(url)["Location"].startswith(LOGIN)
