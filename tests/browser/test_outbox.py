"""Reception finds an email the site gave up sending, from the admin index, and sends it again."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from playwright.sync_api import expect

from booking.models import MessageStatus
from tests.booking.test_outbox import failed_email, run_send_tasks
from tests.browser.signin import admin_sign_in
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long reception password"


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = "https://clinic.example"


def test_reception_sends_a_failed_email_again_from_the_admin_index(page, working_every_day):
    message = failed_email(working_every_day)
    user = User.objects.create_user("rita", "rita@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Reception"))

    admin_sign_in(page, user, PASSWORD)

    failed = page.get_by_role("link", name=re.compile(r"1 email the site gave up sending"))
    expect(failed).to_be_visible()
    index = violations(page)
    failed.click()

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ada@example.com")
    expect(rows.first).to_contain_text("SMTPServerDisconnected")
    outbox = violations(page)
    rows.first.get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Send the selected failed emails again")
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist")).to_contain_text("1 email queued to be sent again.")
    assert {"index": index, "outbox": outbox} == {"index": [], "outbox": []}
    assert run_send_tasks() == ["sent"]
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Emails not sent")).to_have_count(0)
