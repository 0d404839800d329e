"""The admin's door: password guessing is locked out, staff need a second factor, sessions end."""

import logging
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import authenticator_code, code_from

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"
LOGIN = "/admin/login/"
LOCKED_TEXT = "too many unsuccessful attempts"
TOKEN_LABEL = "Code from your authenticator app"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("nurse", "nurse@example.com", PASSWORD)


@pytest.fixture
def two_factor(settings):
    """Production's rule: the test settings switch it off for the rest of the suite."""
    settings.CLINIC_ADMIN_2FA = True
    settings.DEBUG = False
    return settings


def log_in(client, username="nurse", password=PASSWORD, forwarded_for=None, code=True, **fields):
    """A sign-in as staff make it: with the code their authenticator shows (``code=False``: the password alone)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    data = {"username": username, "password": password, "next": "/admin/", **fields}
    user = get_user_model().objects.filter(username=username).first()
    if code and "otp_token" not in fields and user is not None:
        data["otp_token"] = authenticator_code(user)
    return client.post(LOGIN, data, headers=headers)


def signed_in(client):
    return client.get("/admin/").status_code == 200


def settings_in_subprocess(expression, **env):
    """A settings value as a fresh process with this environment computes it."""
    result = subprocess.run(
        [sys.executable, "-c", f"import clinic.settings as s; print({expression})"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "x", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


# Password guessing


def test_five_wrong_passwords_lock_that_user_from_that_address_even_with_the_right_password(client, staff):
    for _ in range(4):
        assert log_in(client, password="guess").status_code == 200
    fifth = log_in(client, password="guess")
    assert fifth.status_code == 429
    assert LOCKED_TEXT in fifth.content.decode()

    refused = log_in(client)
    assert refused.status_code == 429
    assert not signed_in(client)


def test_four_wrong_passwords_do_not_lock_anyone_out(client, staff):
    for _ in range(4):
        log_in(client, password="guess")
    assert log_in(client).status_code == 302
    assert signed_in(client)


def test_the_lock_holds_one_user_at_one_address_only(staff, django_user_model):
    django_user_model.objects.create_user("doctor", password=PASSWORD, is_staff=True)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        log_in(attacker, password="guess")

    assert log_in(attacker, username="doctor").status_code == 302  # another user, same address
    at_the_clinic = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(at_the_clinic).status_code == 302  # the same user, another address


def test_the_lockout_page_is_the_same_for_a_real_and_an_unknown_user_and_names_neither(staff):
    pages = []
    for username in ("nurse", "nobody-by-this-name"):
        client = Client()
        for _ in range(5):
            response = log_in(client, username=username, password="guess")
        pages.append(response.content.decode())
        assert response.status_code == 429
        assert username not in pages[-1]
        message = pages[-1].split('id="content-main"', 1)[1].split("</div>", 1)[0]
        assert LOCKED_TEXT in message
        assert not re.search(r"\d", message)  # neither the limit nor the time left
    assert pages[0] == pages[1]


def test_the_lock_lifts_after_the_cool_off_time(client, staff):
    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    for _ in range(5):
        log_in(client, password="guess")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=29))
    assert log_in(client).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=31))
    assert log_in(client).status_code == 302


def test_the_cool_off_time_comes_from_the_environment():
    assert settings_in_subprocess("s.AXES_COOLOFF_TIME", CLINIC_ADMIN_LOCKOUT_MINUTES="5") == "0:05:00"
    assert settings_in_subprocess("s.AXES_COOLOFF_TIME") == "0:30:00"


def test_a_lockout_is_logged_without_the_password(client, staff, caplog):
    with caplog.at_level(logging.INFO):
        for number in range(5):
            log_in(client, password=f"secret-guess-{number}")
    lockouts = [
        record for record in caplog.records if record.name.startswith("axes") and "Locking out" in record.getMessage()
    ]
    assert len(lockouts) == 1
    assert lockouts[0].levelno == logging.WARNING
    assert not [record for record in caplog.records if "secret-guess" in record.getMessage()]


def test_forged_forwarded_for_headers_do_not_dodge_the_lock_without_a_trusted_proxy(client, staff):
    for number in range(5):
        log_in(client, password="guess", forwarded_for=f"192.0.2.{number}")
    assert log_in(client, forwarded_for="192.0.2.200").status_code == 429


# The client's address (the rule itself: tests/clinic/test_client_ip.py)


def test_behind_a_trusted_proxy_the_lock_follows_the_forwarded_client_address(settings, staff):
    settings.CLINIC_TRUSTED_PROXIES = ["10.0.0.0/24"]
    through_proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(5):
        log_in(through_proxy, password="guess", forwarded_for="203.0.113.9")
    # The guesser stays locked whatever it writes in front of the proxy's entry ...
    assert log_in(through_proxy, forwarded_for="192.0.2.1, 203.0.113.9").status_code == 429
    # ... and staff behind the same proxy, from their own address, are not.
    assert log_in(through_proxy, forwarded_for="198.51.100.20").status_code == 302


def test_a_bad_trusted_proxy_setting_stops_the_start_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.settings"],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "x",
            "CLINIC_TRUSTED_PROXIES": "10.0.0.1,proxy.example",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "CLINIC_TRUSTED_PROXIES" in result.stderr


# Two-factor login


def enrol(username="nurse", *args):
    """Run `manage.py otp_enroll` and return the provisioning URI it prints."""
    out = StringIO()
    call_command("otp_enroll", username, *args, stdout=out)
    return next(line for line in out.getvalue().splitlines() if line.startswith("otpauth://"))


def test_two_factor_login_is_required_by_default_and_only_an_explicit_off_removes_it():
    assert settings_in_subprocess("s.CLINIC_ADMIN_2FA") == "True"
    assert settings_in_subprocess("s.CLINIC_ADMIN_2FA", CLINIC_ADMIN_2FA="off") == "False"
    assert settings_in_subprocess("s.CLINIC_ADMIN_2FA", CLINIC_ADMIN_2FA="no") == "True"


def test_the_login_page_asks_for_the_authenticator_code(client, two_factor):
    html = client.get(LOGIN).content.decode()
    assert TOKEN_LABEL in html
    assert 'autocomplete="one-time-code"' in html


def test_a_password_alone_does_not_sign_staff_in(client, staff, two_factor):
    enrol()
    response = log_in(client, code=False)
    assert response.status_code == 200
    assert "Please enter your OTP token" in response.content.decode()
    assert not signed_in(client)


def test_a_wrong_code_does_not_sign_staff_in(client, staff, two_factor):
    uri = enrol()
    wrong = f"{(int(code_from(uri)) + 1) % 1_000_000:06d}"
    assert log_in(client, otp_token=wrong).status_code == 200
    assert not signed_in(client)


def test_the_enrolled_authenticator_code_signs_staff_in(client, staff, two_factor):
    uri = enrol()
    assert uri.startswith("otpauth://totp/")
    assert "nurse" in uri and "issuer=" in uri
    response = log_in(client, otp_token=code_from(uri))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)


def test_staff_with_two_authenticators_choose_which_one_the_code_is_from(client, staff, two_factor):
    uri = enrol()
    spare = TOTPDevice.objects.create(user=staff, name="Spare phone", confirmed=True)
    first_try = log_in(client, otp_token=code_from(uri))
    assert first_try.status_code == 200
    assert "Spare phone" in first_try.content.decode()  # the choice is offered
    phone = TOTPDevice.objects.exclude(pk=spare.pk).get()
    assert log_in(client, otp_token=code_from(uri), otp_device=phone.persistent_id).status_code == 302


def test_a_staff_session_without_a_verified_device_is_sent_to_the_login_for_the_code(client, staff, two_factor):
    enrol()
    client.force_login(staff, verified=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert TOKEN_LABEL in client.get(response["Location"]).content.decode()
    # Staff pages outside the admin site refuse it too.
    client.force_login(staff, verified=False)
    assert client.get(reverse("faq:preview", args=[1])).status_code == 302


def test_the_quick_starts_explicit_switch_lets_a_password_alone_sign_in(client, staff, settings):
    settings.CLINIC_ADMIN_2FA = False
    assert TOKEN_LABEL not in client.get(LOGIN).content.decode()
    assert log_in(client).status_code == 302
    assert signed_in(client)


def test_enrolling_twice_needs_replace_and_replacing_retires_the_old_codes(client, staff, two_factor):
    first = enrol()
    with pytest.raises(CommandError, match="already has an authenticator"):
        enrol()
    second = enrol("nurse", "--replace")
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    assert log_in(client, otp_token=code_from(second)).status_code == 302
    assert log_in(Client(), otp_token=code_from(first)).status_code == 200  # the lost phone's code


def test_the_admin_never_shows_an_authenticators_secret(admin_client, staff):
    secret = parse_qs(urlsplit(enrol()).query)["secret"][0]
    device = TOTPDevice.objects.get(user=staff)
    pages = [
        admin_client.get(reverse("admin:otp_totp_totpdevice_changelist")),
        admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert secret not in html and device.key not in html and "otpauth://" not in html


@pytest.mark.parametrize(("username", "message"), [("nobody", "No user"), ("patient", "not a staff member")])
def test_enrolling_refuses_unknown_users_and_non_staff(django_user_model, username, message):
    django_user_model.objects.create_user("patient", password=PASSWORD)
    with pytest.raises(CommandError, match=message):
        enrol(username)


# Sessions


def test_the_session_key_changes_at_login(client, staff):
    before = client.session
    before["visited"] = True
    before.save()
    old_key = before.session_key
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value == old_key

    log_in(client)
    new_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert signed_in(client)


def test_logging_out_makes_the_old_session_cookie_worthless(client, staff):
    log_in(client)
    old_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert signed_in(client)

    client.post(reverse("admin:logout"))
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = old_key
    response = replay.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=old_key).exists()


def test_a_staff_session_ends_after_thirty_idle_minutes_but_not_while_in_use(client, staff, monkeypatch):
    start = timezone.now()
    log_in(client)

    def at(minutes):
        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=minutes))

    at(29)
    assert signed_in(client)
    at(58)  # 29 minutes after the last request
    assert signed_in(client)
    at(58 + 31)
    assert not signed_in(client)


def test_the_session_cookie_is_dropped_when_the_browser_closes(client, staff):
    log_in(client)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"


# Guessing spread over many addresses


def test_an_ipv6_client_gets_no_fresh_guesses_from_new_addresses_in_its_own_64(staff):
    for n in range(1, 6):
        log_in(Client(REMOTE_ADDR=f"2001:db8:1:2::{n}"), password="guess")

    same_network = Client(REMOTE_ADDR="2001:db8:1:2:ffff::99")
    refused = log_in(same_network)
    assert refused.status_code == 429
    assert not signed_in(same_network)
    assert log_in(Client(REMOTE_ADDR="2001:db8:1:3::1")).status_code == 302  # another household


@pytest.fixture
def username_limit(settings):
    from django.core.cache import caches

    settings.CLINIC_RATELIMIT_ENABLED = True
    settings.CLINIC_ADMIN_LOGIN_PER_USERNAME = (3, 24 * 3600)
    caches[settings.CLINIC_RATELIMIT_CACHE].clear()
    yield settings
    caches[settings.CLINIC_RATELIMIT_CACHE].clear()


def test_guesses_at_one_name_from_many_addresses_are_slowed_for_that_name(staff, username_limit):
    statuses = [log_in(Client(REMOTE_ADDR=f"203.0.113.{n}"), password="guess").status_code for n in range(1, 5)]

    assert statuses == [200, 200, 200, 429]
    # The right password from yet another address waits for the window too: the guesser learns nothing.
    late = Client(REMOTE_ADDR="198.51.100.7")
    response = log_in(late)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not signed_in(late)
    # Other names are not held up.
    from django.contrib.auth.models import User

    User.objects.create_user("doctor", password=PASSWORD, is_staff=True)
    assert log_in(Client(REMOTE_ADDR="198.51.100.8"), username="doctor").status_code == 302


def test_a_browser_that_signed_in_as_the_name_before_is_not_held_up_by_strangers_guessing(staff, username_limit):
    own = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(own).status_code == 302
    own.post("/admin/logout/")
    for n in range(1, 6):
        log_in(Client(REMOTE_ADDR=f"203.0.113.{n}"), password="guess")

    assert log_in(own).status_code == 302
    assert signed_in(own)
    # The cookie is the site's own: a made-up one does not help a stranger.
    stranger = Client(REMOTE_ADDR="203.0.113.50")
    stranger.cookies["clinic_admin_known"] = own.cookies["clinic_admin_known"].value + "x"
    assert log_in(stranger).status_code == 429
