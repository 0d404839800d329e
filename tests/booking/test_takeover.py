"""No key or token a stranger can work out reaches someone else's appointment: the public booking
form only finds a submission through the signed token the site gave that browser's form, every
key the site makes is random, and each signed link works only for the page it was made for."""

import re
import time
import uuid

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse, translate_url

from booking.links import (
    CONFIRMATION_SALT,
    MANAGE_SALT,
    WAITLIST_CLAIM_SALT,
    confirmation_token,
    manage_token,
    waitlist_claim_token,
)
from booking.models import Appointment, AppointmentStatus, Message, Treatment, WaitlistStatus
from booking.requests.botcheck import form_token
from booking.waitlist.services import waitlist_claim
from tests.booking.test_waitlist import offered
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "first_visit": "yes",
    "consent": "on",
}


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def free_start(treatment, practitioner):
    from datetime import timedelta

    from booking.schedule.availability import first_day_today, free_slots

    today = first_day_today()
    return free_slots(treatment=treatment, first_day=today + timedelta(days=2), last_day=today + timedelta(days=9))


def details_url(treatment):
    return reverse("booking:details", kwargs={"treatment_slug": treatment.slug})


def attacker():
    """A browser of its own, with CSRF enforced as in production."""
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "a" * 32
    return browser


def assert_reveals_nothing(response, victim):
    html = response.content.decode() if not response.streaming else ""
    # The page may name its own address (the language switch and alternates: the same page in each language),
    # which holds only what the attacker typed; anything else of the victim's must not show.
    own = response.wsgi_request.path
    for language, _name in settings.LANGUAGES:
        html = html.replace(translate_url(own, language), "")
    assert response.status_code in (400, 403, 404, 410), response.status_code
    assert victim.reference not in html
    assert "/appointment/" not in html
    assert "/book/done/" not in response.get("Location", "")


def test_a_claimed_waitlist_offer_cannot_be_taken_over_through_the_booking_form(client, treatment, free_start):
    """The reported attack: a POST of only the CSRF token and a key worked out from the entry and the time."""
    start = free_start[0].start
    entry = offered(treatment, start, name="Victim")
    victim = waitlist_claim(entry=entry, start=start)
    # The old key: uuid5 of a constant in the source, the entry's id and the time. And the real key, if any.
    namespace = uuid.UUID("6f1d7c1e-3b1a-4d57-9a53-2f0e8c5b7a11")
    guesses = [uuid.uuid5(namespace, f"{entry.pk}:{start.isoformat()}"), victim.submission_key]

    for key in filter(None, guesses):
        for field in ("submission_key", "started"):
            response = attacker().post(details_url(treatment), {"csrfmiddlewaretoken": "a" * 32, field: str(key)})
            assert_reveals_nothing(response, victim)

    victim.refresh_from_db()
    assert victim.status == AppointmentStatus.REQUESTED
    assert not Message.objects.filter(appointment=victim, kind__icontains="cancel").exists()


def test_a_waitlist_claim_books_under_no_key_anyone_could_work_out(treatment, free_start):
    start = free_start[0].start
    first = waitlist_claim(entry=offered(treatment, start, name="One"), start=start)
    other_start = free_start[8].start
    second = waitlist_claim(entry=offered(treatment, other_start, name="Two"), start=other_start)

    # No key at all: nothing the booking form is sent can ever find these appointments.
    assert first.submission_key is None and second.submission_key is None


def test_knowing_the_exact_key_of_someone_elses_online_booking_finds_nothing(client, treatment, free_start):
    victim_form = form_token(at=time.time() - 5)
    client.post(
        details_url(treatment),
        {
            "start": free_start[0].start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "started": victim_form,
            **TYPED,
            **answers_fine(),
        },
    )
    victim = Appointment.objects.get()
    assert victim.submission_key is not None

    # Even the exact key, sent bare or signed by anything but the site's own form token, finds nothing.
    forged = [
        str(victim.submission_key),
        victim.submission_key.hex,
        signing.dumps({"t": time.time() - 5, "k": victim.submission_key.hex}, salt="other", compress=False),
        signing.dumps({"t": time.time() - 5, "k": victim.submission_key.hex}, key="guessed-secret", compress=False),
    ]
    for value in forged:
        for field in ("started", "submission_key"):
            response = attacker().post(details_url(treatment), {"csrfmiddlewaretoken": "a" * 32, field: value})
            assert_reveals_nothing(response, victim)
    assert Appointment.objects.count() == 1


def test_a_form_shown_again_gets_a_key_of_the_sites_making_never_the_one_sent(client, treatment, free_start):
    """A stranger's key posted with a broken token must not come back signed in the re-shown form."""
    chosen = uuid.uuid4()
    response = client.post(
        details_url(treatment),
        {"start": free_start[0].start.strftime("%Y-%m-%dT%H:%M:%SZ"), "started": chosen.hex, **TYPED},
    )
    html = response.content.decode()
    assert response.status_code == 400
    token = re.search(r'name="started" value="([^"]+)"', html).group(1)
    assert chosen.hex not in signing.loads(token, salt="booking.forms.started")["k"]


def test_each_signed_link_works_only_for_the_page_it_was_made_for(client, treatment, free_start):
    """A token made for one page (or with another salt) opens no other page, and a bare reference none."""
    start = free_start[0].start
    entry = offered(treatment, start, name="Victim")
    victim = waitlist_claim(entry=entry, start=start)
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED

    confirmation = confirmation_token(appointment=victim)
    manage = manage_token(appointment=victim)
    claim = waitlist_claim_token(entry=entry)
    wrong = {
        "done": [manage, claim, victim.reference, signing.dumps(victim.reference, salt=MANAGE_SALT)],
        "manage": [confirmation, claim, victim.reference, signing.dumps(victim.reference, salt=CONFIRMATION_SALT)],
        "manage_cancel": [confirmation, claim, victim.reference],
        "manage_move": [confirmation, claim, victim.reference],
        "manage_calendar": [confirmation, claim, victim.reference],
        "waitlist_claim": [
            manage,
            confirmation,
            str(entry.pk),
            signing.dumps([entry.pk, start.isoformat()], salt=MANAGE_SALT),
            signing.dumps([entry.pk, start.isoformat()], salt=WAITLIST_CLAIM_SALT, key="guessed-secret"),
        ],
    }
    for name, tokens in wrong.items():
        for token in tokens:
            url = reverse(f"booking:{name}", kwargs={"token": token})
            assert_reveals_nothing(client.get(url), victim)
            if name in ("manage_cancel", "manage_move", "waitlist_claim"):
                assert_reveals_nothing(attacker().post(url, {"csrfmiddlewaretoken": "a" * 32}), victim)
    victim.refresh_from_db()
    assert victim.status == AppointmentStatus.REQUESTED
