"""Appointments as a CSV file for staff, with formula cells neutralised.

The file is data for spreadsheets and other programs, so it is in the site's language whoever
exports it: the same headers, statuses and treatment names from a French admin as from an English one.
"""

import csv

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation

CSV_COLUMNS = [
    "reference",
    "date",
    "time",
    "treatment",
    "practitioner",
    "status",
    "first name",
    "last name",
    "email",
    "phone",
    "first visit",
    "created",
]


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_row(appointment):
    start = timezone.localtime(appointment.starts_at)
    created = timezone.localtime(appointment.created_at)
    row = [
        appointment.reference,
        f"{start:%Y-%m-%d}",
        f"{start:%H:%M}",
        appointment.treatment.name,
        appointment.practitioner.name,
        appointment.get_status_display(),
        appointment.first_name,
        appointment.last_name,
        appointment.email,
        appointment.phone,
        "yes" if appointment.first_visit else "no",
        f"{created:%Y-%m-%d %H:%M}",
    ]
    return [csv_cell(value) for value in row]


def csv_response(appointments):
    now = timezone.localtime()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointments-{now:%Y%m%d-%H%M}.csv"'
    response.write("\ufeff")  # the BOM: spreadsheet programs then read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    with translation.override(settings.LANGUAGE_CODE):
        writer.writerows(csv_row(appointment) for appointment in appointments)
    return response
