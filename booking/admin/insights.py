"""The admin's insights page: the clinic's figures for a chosen period, as charts, tables and CSV."""

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from booking.admin.export import csv_cell
from booking.insights.charts import bar_chart
from booking.insights.forms import PeriodForm
from booking.insights.services import OUTCOME_LABELS, insights_for


def rate(count, total):
    return f"{100 * count / total:.0f}%" if total else "–"


def duration_words(duration):
    if duration is None:
        return "No request in this period was confirmed."
    hours = duration.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def tables(figures):
    """Each table the page shows and the CSV gives: (title, header, rows)."""
    outcome_rows = [
        (label, figures.outcomes[name], rate(figures.outcomes[name], figures.total))
        for name, label in OUTCOME_LABELS.items()
    ]
    group_header = ["Name", "Requests", *OUTCOME_LABELS.values()]

    def grouped(rows):
        return [(row["name"], row["total"], *(row[name] for name in OUTCOME_LABELS)) for row in rows]

    return {
        "weeks": (
            "Requests per week",
            ["Week starting", "Requests"],
            [(f"{monday:%d %b %Y}", n) for monday, n in figures.weeks],
        ),
        "outcomes": ("Outcomes of the requests (status now)", ["Outcome", "Requests", "Share of all"], outcome_rows),
        "weekdays": ("Visits by day of the week", ["Day", "Visits"], figures.weekdays),
        "hours": ("Visits by hour of the day (clinic time)", ["Hour", "Visits"], figures.hours),
        "treatments": ("By treatment", group_header, grouped(figures.treatments)),
        "practitioners": ("By practitioner", group_header, grouped(figures.practitioners)),
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
    context = {**admin.site.each_context(request), "title": "Insights", "form": form}
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
