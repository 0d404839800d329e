"""A clinic manager reads the insights for a period, in a real browser, and gets a clear message for a wrong one."""

import re
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from tests.browser.signin import admin_sign_in
from tests.browser.test_accessibility import violations
from tests.insights.test_views import appointments

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long manager password"


def test_a_manager_reads_the_insights_for_a_period_and_downloads_a_table(page):
    appointments(14)
    user = User.objects.create_user("mona", "mona@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Clinic managers"))

    admin_sign_in(page, user, PASSWORD)
    page.get_by_role("link", name="Requests, outcomes and busy times").click()

    page.get_by_label("First day").fill(f"{date(2026, 1, 1):%Y-%m-%d}")
    page.get_by_label("Last day").fill(f"{date(2026, 1, 10):%Y-%m-%d}")
    page.get_by_role("button", name="Show").click()

    expect(page.locator(".insights-summary")).to_contain_text("14 requests")
    expect(page.get_by_role("img", name="Visits by day of the week")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Outcomes of the requests"))).to_contain_text("No-show")
    shown = violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download “Requests per week” as CSV")).click()
    assert download.value.suggested_filename == "insights-weeks-2026-01-01-to-2026-01-10.csv"

    page.get_by_label("First day").fill("2026-02-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("The last day must be on or after the first day.")
    assert {"shown": shown, "wrong period": violations(page)} == {"shown": [], "wrong period": []}
