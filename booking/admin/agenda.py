"""The staff agenda: each practitioner's days with appointments, closures, time off and free gaps.

A fixed number of queries whatever the number of days or appointments: the practitioners with
their hours, the appointments and the closures of the whole window are read once each, then
laid out in Python.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from booking.intake.models import HealthAnswer
from booking.intake.services import answers_readable_by
from booking.models import ACTIVE_STATUSES, Appointment, Closure, Practitioner

MIN_GAP = timedelta(minutes=15)  # shorter gaps are not worth showing reception
VIEWS = {"day": 1, "week": 7}
YEARS_AROUND_TODAY = 10  # far enough for any planning; keeps every date the page computes valid


@dataclass
class AgendaItem:
    kind: str  # "appointment", "closure" or "free"
    start: datetime
    end: datetime
    appointment: Appointment | None = None
    closure: Closure | None = None
    all_day: bool = False

    @property
    def minutes(self):
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class PractitionerDay:
    practitioner: Practitioner
    day: date
    items: list[AgendaItem] = field(default_factory=list)

    @property
    def appointment_count(self):
        return sum(1 for item in self.items if item.kind == "appointment" and item.appointment.is_active)


def local_instant(day, wall, tz):
    return datetime.combine(day, wall, tzinfo=tz)


def agenda_build(*, first_day, days, practitioner=None):
    """[(day, [PractitionerDay])] for ``days`` local days from ``first_day``: everyone, or one practitioner."""
    tz = timezone.get_current_timezone()
    window_start = local_instant(first_day, time.min, tz)
    window_end = local_instant(first_day + timedelta(days=days), time.min, tz)

    practitioners = Practitioner.objects.active().prefetch_related("working_hours")
    if practitioner is not None:
        practitioners = practitioners.filter(pk=practitioner.pk)
    practitioners = list(practitioners)
    ids = [person.pk for person in practitioners]
    appointments = defaultdict(list)  # (practitioner id, local day) -> appointments starting that day
    for appointment in (
        Appointment.objects.filter(practitioner__in=ids, starts_at__lt=window_end, ends_at__gt=window_start)
        .select_related("treatment")
        # Whether health answers exist, and whether any is words to read: never the answers themselves.
        .annotate(
            answers_given=Exists(HealthAnswer.objects.filter(appointment=OuterRef("pk"))),
            answers_to_review=Exists(HealthAnswer.objects.to_review().filter(appointment=OuterRef("pk"))),
        )
        .order_by("starts_at")
    ):
        appointments[appointment.practitioner_id, timezone.localtime(appointment.starts_at, tz).date()].append(
            appointment
        )
    closures = list(
        Closure.objects.overlapping(window_start, window_end)
        .filter(Q(practitioner__isnull=True) | Q(practitioner__in=ids))
        .order_by("starts_at")
    )

    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start = local_instant(day, time.min, tz)
        day_end = local_instant(day + timedelta(days=1), time.min, tz)
        rows = []
        for person in practitioners:
            row = PractitionerDay(practitioner=person, day=day)
            busy = []
            for appointment in appointments[person.pk, day]:
                row.items.append(
                    AgendaItem("appointment", appointment.starts_at, appointment.ends_at, appointment=appointment)
                )
                if appointment.status in ACTIVE_STATUSES:
                    busy.append((appointment.starts_at, appointment.blocked_until))
            for closure in closures:
                if (
                    closure.practitioner_id in (None, person.pk)
                    and closure.starts_at < day_end
                    and closure.ends_at > day_start
                ):
                    start, end = max(closure.starts_at, day_start), min(closure.ends_at, day_end)
                    all_day = start == day_start and end == day_end
                    row.items.append(AgendaItem("closure", start, end, closure=closure, all_day=all_day))
                    busy.append((start, end))
            for hours in person.working_hours.all():
                if hours.weekday == day.weekday():
                    open_from = local_instant(day, hours.start_time, tz)
                    open_until = local_instant(day, hours.end_time, tz)
                    row.items += free_gaps(open_from, open_until, busy)
            row.items.sort(key=lambda item: (item.start, item.kind != "closure"))
            rows.append(row)
        result.append((day, rows))
    return result


def free_gaps(open_from, open_until, busy):
    """The free parts of [open_from, open_until) outside the busy intervals, MIN_GAP or longer."""
    gaps, cursor = [], open_from
    for start, end in sorted(busy):
        if end <= cursor or start >= open_until:
            continue
        if start - cursor >= MIN_GAP:
            gaps.append(AgendaItem("free", cursor, start))
        cursor = max(cursor, end)
    if open_until - cursor >= MIN_GAP:
        gaps.append(AgendaItem("free", cursor, open_until))
    return gaps


class AgendaForm(forms.Form):
    """The page's GET controls. A value that does not validate falls back to its default."""

    date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label=_("Date"),
        error_messages={"invalid": _("Enter a date like 2026-03-14.")},
    )
    view = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("day", _("Day")), ("week", _("Week"))],
        error_messages={"invalid_choice": _("Choose a day or a week.")},
    )
    practitioner = forms.ChoiceField(
        label=_("Practitioner"),
        required=False,
        error_messages={"invalid_choice": _("Choose a practitioner from the list.")},
    )

    def __init__(self, *args, practitioners, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        if practitioners is None:
            del self.fields["practitioner"]  # a practitioner only ever sees their own agenda
        else:
            self.fields["practitioner"].choices = [
                ("", gettext("Everyone")),
                *((str(p.pk), p.name) for p in practitioners),
            ]

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # screen readers read the message with the field
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def clean_date(self):
        chosen = self.cleaned_data["date"]
        if chosen is not None and abs(chosen.year - self.today.year) > YEARS_AROUND_TODAY:
            raise ValidationError(
                gettext("Choose a date within %(years)d years of today.") % {"years": YEARS_AROUND_TODAY},
                code="out_of_range",
            )
        return chosen


def own_practitioner(request, model_admin):
    """(restricted, practitioner): a practitioner's login sees only the practitioner linked to it.

    The appointment admin decides whose login that is, so its list and the agenda never disagree.
    """
    if not model_admin.practitioner_only(request):
        return False, None
    return True, Practitioner.objects.filter(user=request.user).first()


@require_http_methods(["GET", "HEAD"])
def agenda_view(request, model_admin):
    """Admin page: ?view=day|week, ?date=YYYY-MM-DD, ?practitioner=<id>, ?print=1 for the day sheet."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    restricted, own = own_practitioner(request, model_admin)
    practitioners = None if restricted else list(Practitioner.objects.active())
    form = AgendaForm(
        {"date": today.isoformat(), "view": "day", **request.GET.dict()}, practitioners=practitioners, today=today
    )
    form.is_valid()
    chosen = form.cleaned_data.get("date") or today
    view = form.cleaned_data.get("view") or "day"
    if restricted:
        practitioner = own
    else:
        practitioner = next((p for p in practitioners if str(p.pk) == form.cleaned_data.get("practitioner")), None)

    days = VIEWS[view]
    first_day = chosen - timedelta(days=chosen.weekday()) if view == "week" else chosen
    if restricted and own is None:
        agenda = []  # in the group but not linked to a practitioner: nothing of anyone else's to show
    else:
        agenda = agenda_build(first_day=first_day, days=days, practitioner=practitioner)

    params = {"view": view}
    if practitioner is not None and not restricted:
        params["practitioner"] = practitioner.pk

    def page_url(day, **extra):
        return "?" + urlencode({**params, "date": day.isoformat(), **extra})

    step = timedelta(days=days)
    if view == "week":
        title = gettext("Agenda – week of %(day)s") % {"day": date_format(first_day, "l j F Y")}
    else:
        title = gettext("Agenda – %(day)s") % {"day": date_format(first_day, "l j F Y")}
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "view": view,
        "first_day": first_day,
        "agenda": agenda,
        "practitioner": practitioner,
        "restricted": restricted,
        "unlinked": restricted and own is None,
        "previous_url": page_url(first_day - step),
        "today_url": page_url(today),
        "next_url": page_url(first_day + step),
        "agenda_url": page_url(first_day),
        "print_url": page_url(first_day, print=1),
        "printable": request.GET.get("print") == "1",
        "can_read_answers": answers_readable_by(request.user),
    }
    return TemplateResponse(request, "admin/booking/agenda.html", context, status=400 if form.errors else 200)


def agenda(request):
    """The URL's view: the agenda with the Appointment admin as registered (its permissions decide access)."""
    return agenda_view(request, admin.site.get_model_admin(Appointment))
