"""Bodies Django cannot read get the site's 400 page on every address that takes a POST, with no
traceback in the log: a POST declaring another charset than UTF-8 used to answer 500."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from booking.links import manage_token, waitlist_claim_token
from booking.models import Treatment, WaitlistEntry, WaitlistStatus
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_addresses(working_every_day):
    from django.utils import timezone

    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment)
    start = timezone.now().replace(microsecond=0) + timezone.timedelta(days=3)
    token = manage_token(appointment=appointment_at(start))
    entry = WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=start.date(),
        date_to=start.date(),
        first_name="W",
        last_name="P",
        email="w@example.com",
        phone="+442079460000",
        status=WaitlistStatus.OFFERED,
        offered_start=start,
        offered_at=timezone.now(),
    )
    return [
        "/admin/login/",
        reverse("booking:details", kwargs={"treatment_slug": treatment.slug}),
        reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug}),
        reverse("booking:manage_cancel", kwargs={"token": token}),
        reverse("booking:manage_move", kwargs={"token": token}),
        reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=entry)}),
        reverse("faq:index"),
    ]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "multipart/form-data; boundary=x; charset=utf-16",
    ],
)
def test_a_form_in_another_charset_gets_the_400_page_and_no_traceback(post_addresses, content_type, caplog):
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.get("/admin/login/")  # a real CSRF cookie, so the check reads the body as it would
    body = "username=nurse&password=guess".encode("utf-16")

    with caplog.at_level(logging.INFO):
        for address in post_addresses:
            response = browser.generic("POST", address, body, content_type=content_type)
            assert response.status_code == 400, address
            assert "We could not accept that request" in response.content.decode()

    assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


def test_a_utf8_form_still_reaches_the_view(client):
    response = client.post(
        "/admin/login/",
        "username=nurse&password=guess",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 200  # the login form again, with its error
