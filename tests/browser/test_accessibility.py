"""Every public page and state, and the admin pages staff use most, hold to WCAG 2.2 AA in a real browser."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.test_booking import answer_all_with_the_keyboard, details_fill
from tests.public_pages import FAILING_PAGE, get_pages, link_pages, post_pages, rate_limits_low

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def violations(page):
    """axe-core's WCAG A and AA violations on the page as it is now, one readable line each."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
    ]


def public_states(page):
    """Open each public page and state in turn, yielding its name once it is showing."""
    for name, path in get_pages().items():
        page.goto(path)
        yield name
    for name, (path, data) in post_pages().items():
        page.goto(path if not data else f"{path}?start={data['start']}&practitioner=any")
        page.locator("main form[method=post] button[type=submit]").last.click()
        expect(page.locator("#error-summary, .error-summary").first).to_be_visible()
        yield name
    for name, (path, _status) in link_pages().items():
        page.goto(path)
        yield name


def test_every_public_page_and_state_has_no_wcag_aa_violations(page):
    found = {}
    for name in public_states(page):
        found[name] = violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_every_public_page_and_state_has_no_wcag_aa_violations_in_the_dark_scheme(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    found = {}
    for name in public_states(page):
        # The dark scheme is really on: the page is drawn light on dark.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(33, 37, 41)", name
        found[name] = violations(page)
    context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_every_step_a_patient_passes_through_has_no_wcag_aa_violations(page):
    """The states only a form's answer reaches: the health questions with and without errors, the talk-first
    page, a move sent without a time, the move done, the cancel done."""
    found = {}
    page.goto("/book/hair-loss/")
    page.locator("label.time-option").first.click()
    page.get_by_role("button", name="Continue").click()
    details_fill(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Health questions")
    found["health questions"] = violations(page)
    page.get_by_role("button", name="Request this appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer the question")
    found["health questions with errors"] = violations(page)
    page.get_by_role("group", name=re.compile("pregnant")).get_by_label("Yes").check()
    for question in ("blood thinners", "allergic", "skin infection"):
        page.get_by_role("group", name=re.compile(question)).get_by_label("No").check()
    page.get_by_role("button", name="Request this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Please talk to us before booking")
    found["talk first"] = violations(page)
    page.get_by_role("button", name="Send my message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, your message has reached us")
    found["message sent"] = violations(page)

    pages = get_pages()
    page.goto(pages["move"])
    page.get_by_role("button", name="Move to this time").click()
    expect(page.locator(".error-summary").first).to_be_visible()
    found["move with errors"] = violations(page)
    page.locator("label.time-option").first.click()
    page.get_by_role("button", name="Move to this time").click()
    expect(page.get_by_role("status").or_(page.locator(".alert-success")).first).to_contain_text("has moved")
    found["moved"] = violations(page)
    page.goto(pages["appointment"] + "cancel/")
    page.get_by_role("button", name="Yes, cancel this appointment").click()
    expect(page.get_by_role("main")).to_contain_text(re.compile("cancelled", re.I))
    found["cancelled"] = violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}


@pytest.mark.urls("tests.public_pages")
def test_the_error_pages_a_visitor_can_meet_have_no_wcag_aa_violations(page, settings):
    found = {}
    response = page.goto(FAILING_PAGE)
    assert response.status == 500
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    found["server error"] = violations(page)

    waitlist = get_pages()["waitlist"]
    page.goto(waitlist)
    page.context.clear_cookies()  # the form's CSRF cookie is gone, as after a browser's cookies are cleared
    with page.expect_response(lambda answer: answer.request.method == "POST") as answer:
        page.locator("main form[method=post] button[type=submit]").last.click()
    assert answer.value.status == 403
    found["form without its cookie"] = violations(page)

    rate_limits_low(settings)
    page.goto(waitlist)
    page.locator("main form[method=post] button[type=submit]").last.click()
    with page.expect_response(lambda answer: answer.request.method == "POST") as answer:
        page.locator("main form[method=post] button[type=submit]").last.click()
    assert answer.value.status == 429
    expect(page.get_by_role("main")).to_contain_text("Too many attempts")
    found["too many attempts"] = violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_admin_pages_staff_use_daily_have_no_wcag_aa_violations(page):
    get_pages()  # appointments and a waitlist entry to list
    owner = get_user_model().objects.create_superuser("owner", "owner@example.com", "a long and unguessable passphrase")
    device = TOTPDevice.objects.create(user=owner, name="Phone")
    page.goto("/admin/login/?next=/admin/booking/agenda/")
    login = violations(page)
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("a long and unguessable passphrase")
    # The second factor is on, as a clinic deploys it: the code the owner's app shows now.
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key, step=device.step):06d}")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/booking/agenda/"))
    found = {"login": login, "agenda": violations(page)}
    page.goto("/admin/")
    found["index"] = violations(page)
    page.goto("/admin/booking/appointment/")
    expect(page.locator("#result_list")).to_be_visible()
    found["appointments"] = violations(page)
    page.locator("#result_list tbody th a, #result_list tbody td a").first.click()
    expect(page.locator("#appointment_form")).to_be_visible()
    found["appointment"] = violations(page)
    page.goto("/admin/booking/waitlistentry/")
    found["waitlist"] = violations(page)
    page.goto("/admin/booking/message/")
    expect(page.locator("#result_list")).to_be_visible()
    found["outbox"] = violations(page)
    page.goto("/admin/insights/")
    expect(page.locator(".insights-summary")).to_be_visible()
    found["insights"] = violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_every_public_page_reflows_at_320_css_pixels_without_horizontal_scrolling(page):
    # 320 CSS pixels is what a 1280 pixel window shows at 400 % zoom (WCAG 1.4.10), and a 360 pixel phone at 200 %
    # is wider still, so passing here covers both.
    page.set_viewport_size({"width": 320, "height": 740})
    scrolling = {}
    for name in public_states(page):
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            scrolling[name] = widths
    assert scrolling == {}


# The keyboard-only booking path.

FOCUS_STYLE = r"""() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  // Transparent or faint (alpha below 0.5) rings do not count as visible.
  const faint = /rgba\([^)]*,\s*0(\.[0-4]\d*)?\)/;
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
    && !faint.test(style.outlineColor);
  const shadow = style.boxShadow !== 'none' && !faint.test(style.boxShadow);
  return outline || shadow;
}"""


def tab_to(page, locator, limit=120):
    """Press Tab until ``locator`` has the focus, checking each stop shows where the focus is."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        visible = page.evaluate(FOCUS_STYLE)
        described = page.evaluate(
            "() => document.activeElement.outerHTML.slice(0, 120)",
        )
        assert visible is not False, f"no visible focus on {described}"
        seen.append(described)
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {locator}; the focus went through {seen[-10:]}")


def assert_no_trap(page):
    """Tab from the start of the page leaves through the end of it: focus reaches the footer's last link."""
    last = page.locator("footer a").last
    tab_to(page, last, limit=400)


def test_a_patient_books_with_the_keyboard_alone_and_always_sees_where_the_focus_is(page):
    page.goto("/book/")
    assert_no_trap(page)
    page.goto("/book/")
    tab_to(page, page.get_by_role("link", name="Hair loss"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time for Hair loss")

    # The times: a radio group; the chosen time is checked and named by its label.
    first_time = page.locator("input[name=start]").first
    tab_to(page, first_time)
    page.keyboard.press("Space")
    expect(first_time).to_be_checked()
    chosen = page.locator(f"label[for='{first_time.get_attribute('id')}']").inner_text()
    assert re.fullmatch(r"\d\d:\d\d", chosen)
    expect(page.get_by_role("radio", name=chosen).first).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")

    # The details: the chosen time is stated in text, then a failed submit puts the focus on the error summary.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    expect(page.locator("#time-choice")).to_contain_text(f"at {chosen}")
    assert_no_trap(page)
    tab_to(page, page.get_by_role("button", name="Continue to the health questions"))
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary, .error-summary").first
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate(FOCUS_STYLE) is not False
    expect(page.locator("#time-choice")).to_contain_text(f"at {chosen}")

    tab_to(page, page.get_by_label("First name"))
    page.keyboard.type("Grace")
    tab_to(page, page.get_by_label("Last name"))
    page.keyboard.type("Hopper")
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type("grace@example.com")
    tab_to(page, page.get_by_label("Phone number"))
    page.keyboard.type("020 7946 0000")
    first_visit = page.get_by_label("Yes, this is my first visit")
    tab_to(page, first_visit)
    page.keyboard.press("Space")
    consent = page.get_by_role("checkbox", name=re.compile("I agree"))
    tab_to(page, consent)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Continue to the health questions"))
    page.keyboard.press("Enter")

    # The health questions: sent unanswered, the focus goes to the summary; then each group by keyboard.
    expect(page.get_by_role("heading", level=1)).to_have_text("Health questions")
    assert_no_trap(page)
    tab_to(page, page.get_by_role("button", name="Request this appointment"))
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary").first
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Answer the question")
    answer_all_with_the_keyboard(page, no_to_all=True)
    tab_to(page, page.get_by_role("button", name="Request this appointment"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is requested")
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen}")
    assert_no_trap(page)
