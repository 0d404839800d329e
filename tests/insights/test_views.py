"""The insights page: the clinic's figures for a period, for staff allowed to see them."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import F, OuterRef, Subquery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import Appointment, AppointmentEvent, Practitioner, Treatment
from booking.models import AppointmentStatus as S
from tests.factories import PATIENT

pytestmark = pytest.mark.django_db

PAGE = "/admin/insights/"
LONDON = ZoneInfo("Europe/London")
STATUSES = [S.CONFIRMED, S.DECLINED, S.CANCELLED_BY_PATIENT, S.NO_SHOW, S.COMPLETED, S.EXPIRED, S.REQUESTED]


def manager(client):
    user = User.objects.create_user("manager", "manager@example.com", "a long manager password", is_staff=True)
    user.groups.add(Group.objects.get(name="Clinic managers"))
    client.force_login(user)
    return user


def appointments(count, *, first_start=datetime(2026, 1, 5, 9, tzinfo=LONDON)):
    """``count`` appointments an hour apart from ``first_start``, each requested two days before its visit,
    with its statuses in turn and, for those confirmed, the history row of the confirmation a day later."""
    treatment = Treatment.objects.get(slug="hair-loss")
    practitioner = Practitioner.objects.filter(active=True).order_by("pk").first()
    rows = []
    for index in range(count):
        start = first_start + timedelta(hours=index)
        rows.append(
            Appointment(
                reference=f"I{index:07d}",
                treatment=treatment,
                practitioner=practitioner,
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                blocked_until=start + timedelta(minutes=30),
                status=STATUSES[index % len(STATUSES)],
                email_confirmed_at=timezone.now(),
                **PATIENT,
            )
        )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    Appointment.objects.update(created_at=F("starts_at") - timedelta(days=2))
    confirmed = Appointment.objects.filter(status__in=[S.CONFIRMED, S.NO_SHOW, S.COMPLETED])
    AppointmentEvent.objects.bulk_create(
        [AppointmentEvent(appointment=a, from_status=S.REQUESTED, to_status=S.CONFIRMED) for a in confirmed],
        batch_size=2000,
    )
    created = Appointment.objects.filter(pk=OuterRef("appointment_id")).values("created_at")
    AppointmentEvent.objects.update(at=Subquery(created) + timedelta(days=1))


def period(first_day, last_day, **extra):
    return {"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), **extra}


def test_clinic_managers_find_the_insights_from_the_admin_index(client):
    manager(client)

    assert PAGE in client.get("/admin/").content.decode()
    assert client.get(PAGE).status_code == 200


def test_staff_without_the_permission_get_a_403_and_no_link(client):
    user = User.objects.create_user("desk", is_staff=True)
    user.groups.add(Group.objects.get(name="Reception"))
    client.force_login(user)

    assert PAGE not in client.get("/admin/").content.decode()
    assert client.get(PAGE).status_code == 403


def test_the_page_shows_counts_rates_time_to_confirm_and_busy_times(client):
    manager(client)
    appointments(14)  # Monday 5 January 2026, 09:00 to 22:00: two of each status

    page = client.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10))).content.decode()

    assert "<strong>14</strong> requests" in page
    assert '<th scope="row">Declined</th><td>2</td><td>14%</td>' in page
    # Confirmed counts every request that reached confirmation: confirmed, completed, no-show.
    assert '<th scope="row">Confirmed</th><td>6</td><td>43%</td>' in page
    assert '<th scope="row">No-show</th><td>2</td><td>14%</td>' in page
    assert "<strong>24.0 hours</strong>" in page
    # Requested on Saturday 3 January, in the week that began on Monday 29 December.
    assert '<th scope="row">29 Dec 2025</th><td>14</td>' in page
    assert '<th scope="row">05 Jan 2026</th><td>0</td>' in page
    assert '<th scope="row">Monday</th><td>14</td>' in page
    assert '<th scope="row">09:00</th><td>1</td>' in page
    treatment = Treatment.objects.get(slug="hair-loss").name
    practitioner = Practitioner.objects.filter(active=True).order_by("pk").first().name
    row = "<td>14</td><td>6</td><td>2</td><td>2</td><td>2</td><td>2</td>"
    assert f'<th scope="row">{treatment}</th>{row}' in page
    assert f'<th scope="row">{practitioner}</th>{row}' in page


def test_each_chart_is_an_svg_with_a_title_and_a_description_beside_its_table(client):
    manager(client)
    appointments(3)

    page = client.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10))).content.decode()

    assert page.count('<svg class="insights-chart"') == 3
    assert '<title id="chart-weekdays-title">Visits by day of the week</title>' in page
    assert "Bar chart. Monday: 3, Tuesday: 0" in page
    assert "<script" not in page.split('id="content-main"')[1]


def test_each_table_downloads_as_csv_with_the_same_figures(client):
    manager(client)
    appointments(7)

    response = client.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10), download="outcomes"))

    assert response["Content-Type"].startswith("text/csv")
    assert "insights-outcomes-2026-01-01-to-2026-01-10.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Outcome", "Requests", "Share of all"]
    assert ["Declined", "1", "14%"] in rows


def test_a_period_with_no_data_says_so(client):
    manager(client)

    response = client.get(PAGE, period(date(2020, 1, 1), date(2020, 1, 31)))

    assert response.status_code == 200
    assert "No appointments were requested in this period." in response.content.decode()


@pytest.mark.parametrize(
    "query, message",
    [
        ({"first_day": "2026-02-01", "last_day": "2026-01-01"}, "The last day must be on or after the first day."),
        ({"first_day": "2020-01-01", "last_day": "2026-01-01"}, "Choose a period of at most three years."),
        ({"first_day": "yesterday", "last_day": "2026-01-01"}, "Enter a valid date."),
        ({"first_day": "2026-01-01"}, "This field is required."),
        ({"first_day": "2026-01-01", "last_day": "2026-01-31", "download": "patients"}, "Select a valid choice."),
    ],
)
def test_a_tampered_or_impossible_period_gets_a_clear_message_and_a_400(client, query, message):
    manager(client)

    response = client.get(PAGE, query)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'value="2026-01-01"' in response.content.decode()


def queries_for(client, query):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE, query).status_code == 200
    return len(queries)


def test_the_figures_take_as_many_queries_for_20000_appointments_as_for_100(client):
    manager(client)
    whole = period(date(2025, 12, 1), date(2028, 12, 1))
    appointments(100)
    client.get(PAGE, whole)  # the session and the clinic's details cached, as on any later visit
    few = queries_for(client, whole)
    Appointment.objects.all().delete()
    appointments(20_000)

    many = queries_for(client, whole)

    assert many == few
    assert f"<strong>{20_000:,}</strong>".replace(",", "") in client.get(PAGE, whole).content.decode()


def test_a_name_that_looks_like_a_formula_is_written_to_the_csv_as_text(client):
    manager(client)
    appointments(1)
    Treatment.objects.filter(slug="hair-loss").update(name="=HYPERLINK(evil)")

    response = client.get(PAGE, period(date(2026, 1, 1), date(2026, 1, 10), download="treatments"))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][0] == "'=HYPERLINK(evil)"
