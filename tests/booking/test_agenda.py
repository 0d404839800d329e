"""The staff agenda in the admin: day and week, closures, free gaps, the day sheet, and its cost."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment, AppointmentStatus, Closure, Practitioner, Treatment, WorkingHours
from tests.factories import appointment_at, authenticator_code

pytestmark = pytest.mark.django_db

S = AppointmentStatus

URL = "/admin/booking/agenda/"


def next_monday():
    day = timezone.localdate() + timedelta(days=7)
    return day - timedelta(days=day.weekday())


MONDAY = next_monday()


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def treatment():
    return Treatment.objects.create(
        name="Skin boost", slug="skin-boost", summary="s", description="d", duration_minutes=45, buffer_minutes=15
    )


def practitioner_new(name, treatment, position=1):
    practitioner = Practitioner.objects.create(name=name, position=position)
    practitioner.treatments.add(treatment)
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=weekday, start_time=start, end_time=end)
        for weekday in range(5)
        for start, end in [(time(9), time(12, 30)), (time(13, 30), time(17, 30))]
    )
    return practitioner


@pytest.fixture
def practitioner(treatment):
    return practitioner_new("Dr Ada Moss", treatment)


def main_part(html):
    """The page's own content, without the admin's navigation sidebar (which has tables too)."""
    return html.split('<div id="content-main">', 1)[1]


def rows(html):
    """Each agenda table row's text, as a person reads it."""
    found = re.findall(r"<tr[^>]*>(.*?)</tr>", main_part(html), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]


def captions(html):
    return [" ".join(c.split()) for c in re.findall(r"<caption>(.*?)</caption>", main_part(html), re.S)]


def day_headings(html):
    return re.findall(r"<h2 id=\"day-\d+\">(.*?)</h2>", html)


def test_day_view_shows_appointments_by_status_time_off_and_free_gaps(admin_client, treatment, practitioner):
    for hour, status, first_name, reference in [
        (10, S.CONFIRMED, "Ines", "CONF01"),
        (14, S.REQUESTED, "Omar", "REQ001"),
        (15, S.CANCELLED_BY_PATIENT, "Lea", "CANC01"),
    ]:
        appointment_at(
            local(MONDAY, hour),
            treatment=treatment,
            practitioner=practitioner,
            status=status,
            reference=reference,
            first_name=first_name,
            last_name="Bianchi",
            phone="+447700900123",
        )
    Closure.objects.create(
        practitioner=practitioner, starts_at=local(MONDAY, 11), ends_at=local(MONDAY, 12), reason="Training"
    )

    response = admin_client.get(URL, {"date": MONDAY.isoformat(), "practitioner": practitioner.pk})

    assert response.status_code == 200
    html = response.content.decode()
    assert captions(html) == ["Dr Ada Moss: 2 appointments"]
    assert rows(html)[1:] == [
        "09:00 – 10:00 Free (60 min) Free",
        "10:00 – 10:45 CONF01 Ines Bianchi, Skin boost, +447700900123 Confirmed",
        "11:00 – 12:00 Time off: Training Not bookable",
        "12:00 – 12:30 Free (30 min) Free",
        "13:30 – 14:00 Free (30 min) Free",
        "14:00 – 14:45 REQ001 Omar Bianchi, Skin boost, +447700900123 Requested",
        # A cancelled visit no longer holds its time: the afternoon is free from the end of the buffer.
        "15:00 – 15:45 CANC01 Lea Bianchi, Skin boost, +447700900123 Cancelled by patient",
        "15:00 – 17:30 Free (150 min) Free",
    ]
    appointment = Appointment.objects.get(reference="CONF01")
    assert reverse("admin:booking_appointment_change", args=[appointment.pk]) in html


def test_a_whole_clinic_closure_fills_every_practitioners_day(admin_client, treatment, practitioner):
    Closure.objects.create(starts_at=local(MONDAY, 0), ends_at=local(MONDAY + timedelta(days=1), 0), reason="Holiday")

    html = admin_client.get(URL, {"date": MONDAY.isoformat()}).content.decode()

    assert captions(html) == ["Clinic practitioner: 0 appointments", "Dr Ada Moss: 0 appointments"]
    assert rows(html)[1:] == [
        "All day Clinic closed: Holiday Not bookable",
        "Time What Status",
        "All day Clinic closed: Holiday Not bookable",
    ]


def test_week_view_runs_monday_to_sunday_around_the_chosen_day(admin_client, treatment, practitioner):
    wednesday = MONDAY + timedelta(days=2)
    appointment_at(
        local(wednesday, 9), treatment=treatment, practitioner=practitioner, status=S.CONFIRMED, reference="WED001"
    )

    response = admin_client.get(URL, {"date": wednesday.isoformat(), "view": "week", "practitioner": practitioner.pk})

    html = response.content.decode()
    headings = day_headings(html)
    assert len(headings) == 7
    assert headings[0].startswith("Monday") and headings[-1].startswith("Sunday")
    assert f"<h1>Agenda – week of Monday {MONDAY.day}" in html
    assert "WED001" in html
    assert html.count("Not working this day.") == 2  # the weekend


def test_previous_today_and_next_keep_the_view_and_the_practitioner(admin_client, practitioner):
    response = admin_client.get(URL, {"date": MONDAY.isoformat(), "view": "week", "practitioner": practitioner.pk})

    html = response.content.decode()
    keep = f"view=week&amp;practitioner={practitioner.pk}"
    assert f'href="?{keep}&amp;date={(MONDAY - timedelta(days=7)).isoformat()}">← Previous week</a>' in html
    assert f'href="?{keep}&amp;date={timezone.localdate().isoformat()}">Today</a>' in html
    assert f'href="?{keep}&amp;date={(MONDAY + timedelta(days=7)).isoformat()}">Next week →</a>' in html


def test_without_a_date_the_agenda_shows_today(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 200
    today = timezone.localdate()
    assert day_headings(response.content.decode()) == [f"{today:%A} {today.day} {today:%B %Y}"]


def test_choosing_a_practitioner_leaves_the_others_out(admin_client, treatment, practitioner):
    other = practitioner_new("Dr Ben Oyelaran", treatment, position=2)
    appointment_at(
        local(MONDAY, 10), treatment=treatment, practitioner=practitioner, status=S.CONFIRMED, reference="ADA001"
    )
    appointment_at(local(MONDAY, 10), treatment=treatment, practitioner=other, status=S.CONFIRMED, reference="BEN001")

    everyone = admin_client.get(URL, {"date": MONDAY.isoformat()}).content.decode()
    one = admin_client.get(URL, {"date": MONDAY.isoformat(), "practitioner": other.pk}).content.decode()

    assert "ADA001" in everyone and "BEN001" in everyone
    assert captions(one) == ["Dr Ben Oyelaran: 1 appointment"]
    assert "ADA001" not in one


def test_printable_day_sheet_has_the_day_without_the_controls(admin_client, treatment, practitioner):
    appointment_at(
        local(MONDAY, 10),
        treatment=treatment,
        practitioner=practitioner,
        status=S.CONFIRMED,
        reference="PRN001",
        staff_notes="Allergic to lidocaine",
    )

    screen = admin_client.get(URL, {"date": MONDAY.isoformat()}).content.decode()
    assert f'href="?view=day&amp;date={MONDAY.isoformat()}&amp;print=1">Printable day sheet</a>' in screen

    sheet = admin_client.get(URL, {"date": MONDAY.isoformat(), "print": "1"}).content.decode()
    assert 'class="agenda-controls"' not in sheet and "Next day" not in sheet
    assert "PRN001" in sheet and "Allergic to lidocaine" in sheet
    assert "agenda-print" in re.search(r"<body[^>]*>", sheet).group()
    assert f'href="?view=day&amp;date={MONDAY.isoformat()}">Back to the agenda</a>' in sheet


def agenda_queries(client, day):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"date": day.isoformat(), "view": "week"})
    assert response.status_code == 200
    return len(queries)


def test_agenda_reads_the_same_number_of_queries_for_5_and_100_appointments(admin_client, treatment, practitioner):
    other = practitioner_new("Dr Ben Oyelaran", treatment, position=2)
    Closure.objects.create(practitioner=other, starts_at=local(MONDAY, 9), ends_at=local(MONDAY, 12))
    statuses = list(AppointmentStatus)

    def add(count, first):
        for index in range(first, first + count):
            person = practitioner if index % 2 else other
            start = local(MONDAY, 0) + timedelta(hours=index)  # a week holds 168 hours
            status = statuses[index % len(statuses)]
            appointment_at(start, treatment=treatment, practitioner=person, status=status, reference=f"Q{index:05d}")

    add(5, 0)
    with_5 = agenda_queries(admin_client, MONDAY)
    add(95, 5)
    assert Appointment.objects.count() == 100
    with_100 = agenda_queries(admin_client, MONDAY)

    html = admin_client.get(URL, {"date": MONDAY.isoformat(), "view": "week"}).content.decode()
    assert html.count("/change/") == 100  # every appointment is on the page
    assert with_5 == with_100
    assert with_100 <= 12


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": "2026-13-45"}, "Enter a date like 2026-03-14."),
        ({"date": "next tuesday"}, "Enter a date like 2026-03-14."),
        ({"date": "9999-12-31"}, "Choose a date within 10 years of today."),
        ({"date": "0001-01-01", "view": "week"}, "Choose a date within 10 years of today."),
        ({"date": "2026-01-01\x00"}, "Enter a date like 2026-03-14."),
        ({"view": "month"}, "Choose a day or a week."),
        ({"practitioner": "abc"}, "Choose a practitioner from the list."),
        ({"practitioner": "999999"}, "Choose a practitioner from the list."),
        ({"practitioner": "1 OR 1=1"}, "Choose a practitioner from the list."),
    ],
)
def test_a_value_the_page_cannot_use_gets_a_message_and_todays_agenda(admin_client, params, message):
    response = admin_client.get(URL, params)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Part of this address was not understood" in html
    assert len(day_headings(html)) in (1, 7)
    field = next(iter(params))
    assert f'aria-describedby="id_{field}_error"' in html


def test_only_get_is_answered(admin_client):
    assert admin_client.post(URL).status_code == 405


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_appointment_view_permission_get_403(client):
    client.force_login(User.objects.create_user("clerk", is_staff=True))

    assert client.get(URL).status_code == 403


def test_staff_with_the_appointment_view_permission_see_the_agenda(client):
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(user)

    assert client.get(URL).status_code == 200


def test_page_has_one_heading_labelled_controls_and_works_without_javascript(admin_client):
    html = admin_client.get(URL).content.decode()

    assert html.count("<h1") == 1
    form = re.search(r'<form method="get" class="agenda-controls">(.*?)</form>', html, re.S).group(1)
    controls = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
    assert sorted(controls) == ["id_date", "id_practitioner", "id_view"]
    for control in controls:
        assert f'<label for="{control}">' in form
    assert '<button type="submit" class="button">Show</button>' in form
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline scripts


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_day_sheet_prints_without_the_admin_chrome_and_the_agenda_works_without_javascript(
    browser, live_server, clinic_content
):
    boss = User.objects.create_superuser("boss", "boss@example.com", "a long admin password")
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 360, "height": 800}
    )
    page = context.new_page()
    try:
        page.goto(f"{reverse('admin:login')}?next={URL}")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill("a long admin password")
        page.get_by_label("Code from your authenticator app").fill(authenticator_code(boss))
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Period").select_option("week")
        page.get_by_role("button", name="Show").click()
        assert page.get_by_role("heading", level=1).inner_text().startswith("Agenda – week of Monday")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling

        page.get_by_role("link", name="Today").click()
        page.get_by_label("Period").select_option("day")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("link", name="Printable day sheet").click()
        page.emulate_media(media="print")
        assert not page.locator("#header").is_visible()
        assert not page.locator(".breadcrumbs").is_visible()
        assert page.locator(".agenda-table").first.is_visible()
        assert page.get_by_role("heading", level=1).is_visible()
    finally:
        context.close()
