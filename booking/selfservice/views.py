"""The patient's own appointment page, reached through the signed link in every email: see it,
cancel it, move it, add it to a calendar.
"""

import functools
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from booking.appointments.services import (
    OutsideSelfServiceWindow,
    SlotTaken,
    TransitionNotAllowed,
    appointment_cancel_by_patient,
    appointment_move,
    self_service_open,
)
from booking.emails.calendar import calendar_for
from booking.links import (
    appointment_from_manage_token,
)
from booking.models import AppointmentStatus, Practitioner
from booking.requests.forms import (
    ANY_PRACTITIONER,
)
from booking.requests.views import PERIOD_DAYS, HttpResponseSeeOther, bookable_around, time_choices
from booking.schedule.availability import (
    booking_window,
    first_day_today,
    free_slots,
)
from booking.selfservice.forms import MoveForm
from clinic.cache import clinic_details
from clinic.i18n import language_from_link
from clinic.models import ClinicDetails
from clinic.ratelimit import ratelimit_hit, ratelimit_posts, ratelimit_response

STATUS_WORDS = {
    AppointmentStatus.REQUESTED: gettext_noop("Requested: the clinic will confirm it by email"),
    AppointmentStatus.CONFIRMED: gettext_noop("Confirmed"),
    AppointmentStatus.DECLINED: gettext_noop("Declined: the clinic could not offer this time"),
    AppointmentStatus.CANCELLED_BY_PATIENT: gettext_noop("Cancelled by you"),
    AppointmentStatus.CANCELLED_BY_CLINIC: gettext_noop("Cancelled by the clinic"),
    AppointmentStatus.COMPLETED: gettext_noop("Completed"),
    AppointmentStatus.NO_SHOW: gettext_noop("Missed"),
    AppointmentStatus.EXPIRED: gettext_noop("Expired: the time was released"),
}


# A calendar file for these tells the patient's calendar to remove the event.
CALENDAR_CANCELS = {
    AppointmentStatus.DECLINED,
    AppointmentStatus.CANCELLED_BY_PATIENT,
    AppointmentStatus.CANCELLED_BY_CLINIC,
    AppointmentStatus.EXPIRED,
}


MOVE_TAKEN_MESSAGE = gettext_noop(
    "Sorry, that time was just taken by someone else. Your appointment has not changed. "
    "Please choose another time below."
)


NEAREST_COUNT = 6


# Under "no-referrer" browsers send "Origin: null" with a form's POST, which Django's CSRF check
# refuses; "same-origin" still keeps the link from every other site.
FORM_REFERRER_POLICY = "same-origin"


def patient_link(view):
    """Find the appointment a signed link names, or answer with a clear 404 (forged) or 410 (expired).

    The link is the only key to these pages, so they are never cached and the browser never
    passes their address on as a referrer (pages with a form: only to this site, see FORM_REFERRER_POLICY).
    """

    @functools.wraps(view)
    def wrapper(request, token):
        try:
            appointment = appointment_from_manage_token(token)
        except signing.SignatureExpired:
            context = {"link_days": settings.CLINIC_PATIENT_LINK_DAYS}
            response = render(request, "booking/manage_expired.html", context, status=410)
        else:
            if appointment is None:
                response = render(request, "booking/manage_invalid.html", status=404)
            else:
                response = view(request, appointment, token)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def manage_url(token):
    return reverse("booking:manage", kwargs={"token": token})


def local_when(start):
    local = timezone.localtime(start)
    return gettext("%(day)s at %(time)s") % {"day": date_format(local, "l j F Y"), "time": f"{local:%H:%M}"}


def refusal_page(request, *, appointment, token, rules, reason):
    """Why the appointment cannot be changed online: too close to the visit (403), or not active (409)."""
    context = {
        "clinic": rules,
        "appointment": appointment,
        "status_words": gettext(STATUS_WORDS[appointment.status]),
        "reason": reason,
        "manage_url": manage_url(token),
    }
    return render(request, "booking/manage_refused.html", context, status=403 if reason == "cutoff" else 409)


def self_service_limited(request, *, appointment):
    """The 429 page once one appointment has had too many cancel or move attempts, from any address; else None."""
    if request.method != "POST":
        return None
    limited = ratelimit_hit(scope="self_service", kind="appointment", value=appointment.pk)
    return None if limited is None else ratelimit_response(request, limited=limited)


def self_service_gate(request, *, appointment, token, cancel=False):
    """(the clinic's rules, None) if the patient may cancel or move this appointment online now,
    else (rules, the page that says why not: too many attempts, not active, or past the cutoff)."""
    limited = self_service_limited(request, appointment=appointment)
    if limited is not None:
        return None, limited
    rules = ClinicDetails.objects.current()
    if not appointment.is_active:
        return rules, refusal_page(request, appointment=appointment, token=token, rules=rules, reason="inactive")
    if not self_service_open(appointment=appointment, rules=rules, cancel=cancel):
        return rules, refusal_page(request, appointment=appointment, token=token, rules=rules, reason="cutoff")
    return rules, None


@language_from_link
@never_cache
@require_safe
@patient_link
def manage(request, appointment, token):
    """The patient's appointment as it is now, with the choices still open to them. Opening it changes nothing.

    The clinic's details come from the worker's copy (clinic.cache); cancelling and moving check
    the cutoff again against the database.
    """
    rules = clinic_details(request)
    context = {
        "clinic": rules,
        "appointment": appointment,
        "token": token,
        "status_words": gettext(STATUS_WORDS[appointment.status]),
        "can_change": appointment.is_active and self_service_open(appointment=appointment, rules=rules),
        "can_cancel": appointment.is_active and self_service_open(appointment=appointment, rules=rules, cancel=True),
        "calendar_cancels": appointment.status in CALENDAR_CANCELS,
    }
    return render(request, "booking/manage.html", context)


@language_from_link
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit_posts("self_service")
@patient_link
def manage_cancel(request, appointment, token):
    """GET asks "are you sure?"; only the POST from that page cancels, so a mail scanner opening links cannot."""
    rules, refused = self_service_gate(request, appointment=appointment, token=token, cancel=True)
    if refused is not None:
        return refused
    if request.method == "GET":
        context = {"clinic": rules, "appointment": appointment, "token": token}
        response = render(request, "booking/manage_cancel.html", context)
        response["Referrer-Policy"] = FORM_REFERRER_POLICY
        return response
    try:
        cancelled = appointment_cancel_by_patient(appointment=appointment)
    except OutsideSelfServiceWindow:
        return refusal_page(request, appointment=appointment, token=token, rules=rules, reason="cutoff")
    except TransitionNotAllowed as error:  # cancelled or declined since the page was shown
        return refusal_page(request, appointment=error.appointment, token=token, rules=rules, reason="inactive")
    messages.success(
        request,
        gettext("Your appointment on %(when)s is cancelled. We will email you to confirm.")
        % {"when": local_when(cancelled.starts_at)},
    )
    return HttpResponseSeeOther(manage_url(token))


@language_from_link
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit_posts("self_service")
@patient_link
def manage_move(request, appointment, token):
    """GET shows the free times to move to; a POST of one of them moves the appointment in one transaction."""
    rules, refused = self_service_gate(request, appointment=appointment, token=token)
    if refused is not None:
        return refused
    if request.method == "GET":
        return move_page(request, appointment=appointment, token=token, rules=rules)

    form = MoveForm(request.POST, appointment=appointment, rules=rules)
    if not form.is_valid():
        taken = form.time_is_taken
        problem = gettext(MOVE_TAKEN_MESSAGE) if taken else next(iter(form.errors.values()))[0]
        return move_page(
            request,
            appointment=appointment,
            token=token,
            rules=rules,
            problem=problem,
            status=409 if taken else 400,
            wanted=bookable_around(request.POST.get("start"), rules=rules),
            nearest=taken,
            practitioner=None if form.has_error("practitioner") else form.cleaned_data.get("practitioner"),
        )
    start, practitioner = form.cleaned_data["start"], form.cleaned_data["practitioner"]
    try:
        moved = appointment_move(appointment=appointment, start=start, practitioner=practitioner, by_patient=True)
    except OutsideSelfServiceWindow:
        return refusal_page(request, appointment=appointment, token=token, rules=rules, reason="cutoff")
    except TransitionNotAllowed as error:
        return refusal_page(request, appointment=error.appointment, token=token, rules=rules, reason="inactive")
    except SlotTaken:
        return move_page(
            request,
            appointment=appointment,
            token=token,
            rules=rules,
            problem=gettext(MOVE_TAKEN_MESSAGE),
            status=409,
            wanted=start,
            nearest=True,
            practitioner=practitioner,
        )
    messages.success(
        request,
        gettext("Your appointment has moved to %(when)s with %(practitioner)s.")
        % {"when": local_when(moved.starts_at), "practitioner": moved.practitioner.name},
    )
    return HttpResponseSeeOther(manage_url(token))


def move_page(request, *, appointment, token, rules, problem=None, status=200, wanted=None, nearest=False, **kwargs):
    """The free times an appointment can move to: a period of days, or the nearest ones to a time just taken."""
    treatment = appointment.treatment
    now = timezone.now()
    today = first_day_today(now)
    last_bookable = timezone.localtime(booking_window(rules=rules, now=now)[1]).date()
    problems = [problem] if problem else []

    practitioners = list(Practitioner.objects.giving(treatment))
    if "practitioner" in kwargs:  # a POST: what the form made of it
        chosen = kwargs["practitioner"]
        practitioner_value = str(chosen.pk) if chosen else ANY_PRACTITIONER
    else:
        practitioner_value = request.GET.get("practitioner") or ANY_PRACTITIONER
        chosen = next((p for p in practitioners if str(p.pk) == practitioner_value), None)
        if chosen is None and practitioner_value != ANY_PRACTITIONER:
            problems.append(
                gettext("That practitioner does not give %(treatment)s, so these are everyone's free times.")
                % {"treatment": treatment.name}
            )
            status = 400
            practitioner_value = ANY_PRACTITIONER

    first_day = timezone.localtime(wanted).date() if wanted else None
    if first_day is None and "from" in request.GET:
        try:
            first_day = date.fromisoformat(request.GET["from"][:10])
        except ValueError:
            problems.append(gettext("We could not read that date, so these are the free times from today."))
            status = 400
    first_day = max(min(first_day or today, last_bookable - timedelta(days=PERIOD_DAYS - 1)), today)
    last_day = min(first_day + timedelta(days=PERIOD_DAYS - 1), last_bookable)

    if nearest:
        # Around the time just taken: a week before to two weeks after, the closest first.
        slots = free_slots(
            treatment=treatment,
            first_day=first_day - timedelta(days=7),
            last_day=first_day + timedelta(days=14),
            practitioner=chosen,
            now=now,
            rules=rules,
            ignore_appointment=appointment,
        )
        slots = [slot for slot in slots if slot.start != appointment.starts_at]
        slots = sorted(sorted(slots, key=lambda slot: abs(slot.start - wanted))[:NEAREST_COUNT], key=lambda s: s.start)
    else:
        slots = free_slots(
            treatment=treatment,
            first_day=first_day,
            last_day=last_day,
            practitioner=chosen,
            now=now,
            rules=rules,
            ignore_appointment=appointment,
        )
        # The current time is not a choice: it is shown on its own, as the patient's current time.
        slots = [slot for slot in slots if slot.start != appointment.starts_at]

    move_url = reverse("booking:manage_move", kwargs={"token": token})

    def period_url(day):
        return f"{move_url}?{urlencode({'from': day.isoformat(), 'practitioner': practitioner_value})}"

    next_day = last_day + timedelta(days=1)
    context = {
        "clinic": rules,
        "appointment": appointment,
        "token": token,
        "treatment": treatment,
        "practitioners": practitioners,
        "practitioner_value": practitioner_value,
        "chosen_practitioner": chosen,
        "first_day": first_day,
        "last_day": last_day,
        "nearest": nearest,
        "days": time_choices(slots),
        "all_times_url": period_url(first_day),
        "previous_url": period_url(max(today, first_day - timedelta(days=PERIOD_DAYS)))
        if first_day > today and not nearest
        else None,
        "next_url": period_url(next_day) if next_day <= last_bookable and not nearest else None,
        "errors": [("times", problem) for problem in problems],
    }
    response = render(request, "booking/manage_move.html", context, status=status)
    response["Referrer-Policy"] = FORM_REFERRER_POLICY
    return response


@language_from_link
@never_cache
@require_safe
@patient_link
def manage_calendar(request, appointment, token):
    """The appointment as an .ics file; a cancelled or declined one removes the event from the calendar.

    In the language of the booking, as the files attached to its emails are, whichever page it came from.
    """
    with translation.override(appointment.language):
        ics = calendar_for(
            appointments=[appointment],
            clinic=ClinicDetails.objects.current(),
            cancel=appointment.status in CALENDAR_CANCELS,
        )
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.reference}.ics"'
    return response
