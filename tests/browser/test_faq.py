import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patient_follows_a_question_goes_back_to_top_and_reaches_booking(page):
    page.goto("/faq/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mesotherapy: questions and answers")

    page.get_by_role("link", name="What is the procedure of Mesotherapy?").click()
    expect(page).to_have_url(re.compile(r"/faq/#procedure$"))
    expect(page.get_by_role("heading", name="What is the procedure of Mesotherapy?")).to_be_in_viewport()

    page.locator("#procedure").get_by_role("link", name="Back to top").click()
    expect(page).to_have_url(re.compile(r"/faq/#top$"))
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()

    page.get_by_role("main").get_by_role("link", name="Book an Appointment").click()
    expect(page).to_have_url(re.compile(r"/book/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book an appointment")


def test_patient_searches_the_faq_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/faq/")
    page.get_by_label("Search the questions").fill("kidneys")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=re.compile("1 question matching"))).to_be_visible()
    expect(page.get_by_role("heading", name="What happens to the fat dissolved with mesotherapy?")).to_be_visible()
    context.close()


def test_faq_fits_a_360px_phone_without_sideways_scrolling(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto("/faq/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_keyboard_user_can_skip_to_the_content(page):
    page.goto("/faq/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
