"""The admin's insights page: the clinic's figures for a chosen period, as charts, tables and CSV."""

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET

from booking.admin.export import csv_cell
from booking.insights.charts import bar_chart
from booking.insights.forms import PeriodForm
from booking.insights.services import OUTCOME_LABELS, insights_for


def rate(count, total):
    # number_format cuts decimals off; round first, as the English "43%" always did.
    return gettext("%(percent)s%%") % {"percent": number_format(round(100 * count / total))} if total else "–"


def duration_words(duration):
    if duration is None:
        return gettext("No request in this period was confirmed.")
    hours = duration.total_seconds() / 3600
    # The plural follows the whole number: English says "1.0 hours", French "1,5 heure" (singular below two).
    if hours < 48:
        hours = round(hours, 1)
        return ngettext("%(hours)s hours", "%(hours)s hours", int(hours)) % {"hours": number_format(hours, 1)}
    days = round(hours / 24, 1)
    return ngettext("%(days)s days", "%(days)s days", int(days)) % {"days": number_format(days, 1)}


def tables(figures):
    """Each table the page shows and the CSV gives: (title, header, rows)."""
    outcome_rows = [
        (str(label), figures.outcomes[name], rate(figures.outcomes[name], figures.total))
        for name, label in OUTCOME_LABELS.items()
    ]
    group_header = [gettext("Name"), gettext("Requests"), *map(str, OUTCOME_LABELS.values())]

    def grouped(rows):
        return [(row["name"], row["total"], *(row[name] for name in OUTCOME_LABELS)) for row in rows]

    # Translators: how the week's first day is written, in Django's date format (29 Dec 2025).
    week_format = gettext("d M Y")
    return {
        "weeks": (
            gettext("Requests per week"),
            [gettext("Week starting"), gettext("Requests")],
            [(date_format(monday, week_format), n) for monday, n in figures.weeks],
        ),
        "outcomes": (
            gettext("Outcomes of the requests (status now)"),
            [gettext("Outcome"), gettext("Requests"), gettext("Share of all")],
            outcome_rows,
        ),
        "weekdays": (gettext("Visits by day of the week"), [gettext("Day"), gettext("Visits")], figures.weekdays),
        "hours": (
            gettext("Visits by hour of the day (clinic time)"),
            [gettext("Hour"), gettext("Visits")],
            figures.hours,
        ),
        "treatments": (gettext("By treatment"), group_header, grouped(figures.treatments)),
        "practitioners": (gettext("By practitioner"), group_header, grouped(figures.practitioners)),
    }


def csv_response(name, table, period):
    title, header, rows = table
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{name}-{period}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    # Treatment and practitioner names are typed by staff: never a formula in a spreadsheet.
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return response


@require_GET
def insights(request):
    if not request.user.has_perm("insights.view_insights"):
        raise PermissionDenied
    form = PeriodForm(request.GET or PeriodForm.default_period())
    context = {**admin.site.each_context(request), "title": gettext("Insights"), "form": form}
    if not form.is_valid():
        return TemplateResponse(request, "admin/insights/insights.html", context, status=400)
    first_day, last_day = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    figures = insights_for(first_day=first_day, last_day=last_day)
    all_tables = tables(figures)
    download = form.cleaned_data["download"]
    if download:
        return csv_response(download, all_tables[download], f"{first_day:%Y-%m-%d}-to-{last_day:%Y-%m-%d}")
    charts = {
        name: bar_chart(slug=name, title=all_tables[name][0], rows=all_tables[name][2])
        for name in ("weeks", "weekdays", "hours")
    }
    sections = []
    for name, (title, header, rows) in all_tables.items():
        params = {"first_day": f"{first_day:%Y-%m-%d}", "last_day": f"{last_day:%Y-%m-%d}", "download": name}
        sections.append(
            {
                "slug": name,
                "title": title,
                "header": header,
                "rows": rows,
                "chart": charts.get(name),
                "csv_query": "&".join(f"{key}={value}" for key, value in params.items()),
            }
        )
    context.update(
        {
            "figures": figures,
            "first_day": first_day,
            "last_day": last_day,
            "to_confirm": duration_words(figures.average_to_confirm),
            "sections": sections,
        }
    )
    return TemplateResponse(request, "admin/insights/insights.html", context)
