"""Reception books a caller: the treatment, a free time and the patient's details, under staff's rules."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

import phonenumbers
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.admin.forms import PhoneBookingChoiceForm, PhoneBookingForm
from booking.appointments.services import (
    SlotTaken,
    appointment_request,
)
from booking.courses.services import planning_rules
from booking.models import AppointmentStatus as S
from booking.requests.forms import PHONE_REGION, start_format
from booking.schedule.availability import first_day_today, free_slots, slots_by_day
from clinic.models import PrivacyNotice

# How far ahead "Book for a patient" lets staff book.
STAFF_BOOKING_HORIZON_DAYS = 2 * 365


def staff_booking_rules(*, now):
    """The booking rules staff booking by phone meet: no minimum notice, a horizon of two years.

    With the patient on the line, reception decides whether this afternoon is too soon; the
    practitioner's hours, closures, the slot step, the past and other visits still count.
    """
    last_day = timezone.localdate(now, timezone.get_default_timezone()) + timedelta(days=STAFF_BOOKING_HORIZON_DAYS)
    return planning_rules(last_day=last_day, now=now)


PHONE_BOOKING_DAYS = 14


PHONE_BOOKING_FIELDS = ["first_name", "last_name", "email", "phone", "language", "first_visit", "message"]


TAKEN_MESSAGE_STAFF = _(
    "That time was taken a moment ago by another booking. Choose another time; the details are kept."
)


def staff_name(user):
    return user.get_full_name() or user.get_username()


def phone_e164(term):
    """The search term as a stored phone number (E.164), or None when it is not one."""
    term = term.strip()
    if sum(char.isdigit() for char in term) < 6 or len(term) > 40:
        return None
    try:
        number = phonenumbers.parse(term, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneBookingMixin:
    """The admin's "Book for a patient" pages. Mixed into AppointmentAdmin."""

    def phone_booking_view(self, request):
        """Book for a patient on the phone: the public form's checks and staff's rules (staff_booking_rules)."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not self.has_book_permission(request):
            raise PermissionDenied
        now = timezone.now()
        rules = staff_booking_rules(now=now)
        notice = PrivacyNotice.objects.current()
        choice = PhoneBookingChoiceForm(request.GET if "treatment" in request.GET else None)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Book for a patient"),
            "opts": self.model._meta,
            "choice": choice,
            "media": self.media,
        }
        if not choice.is_valid():
            status = 400 if choice.is_bound else 200
            return TemplateResponse(request, "admin/booking/appointment/phone_booking.html", context, status=status)

        treatment, practitioner = choice.cleaned_data["treatment"], choice.cleaned_data["practitioner"]
        form = PhoneBookingForm(
            request.POST if request.method == "POST" else None,
            treatment=treatment,
            rules=rules,
            now=now,
            privacy_notice=notice,
            initial={"practitioner": choice.practitioner_value(), "submission_key": uuid.uuid4()},
        )
        status = 200
        if form.is_bound:
            if form.is_valid():
                try:
                    appointment = self.phone_booking_save(request, form, treatment, notice)
                except SlotTaken:
                    form.add_error("start", ValidationError(TAKEN_MESSAGE_STAFF, code="taken"))
                else:
                    local = timezone.localtime(appointment.starts_at)
                    self.message_user(
                        request,
                        gettext(
                            "%(reference)s booked for %(patient)s on %(when)s as a request; confirm it when it suits."
                        )
                        % {
                            "reference": appointment.reference,
                            "patient": appointment.patient_name,
                            "when": date_format(local, "D d M Y H:i"),
                        },
                        messages.SUCCESS,
                    )
                    if self.has_view_or_change_permission(request, appointment):
                        return HttpResponseRedirect(reverse("admin:booking_appointment_change", args=[appointment.pk]))
                    return HttpResponseRedirect(reverse("admin:booking_appointment_book"))
            status = 409 if form.has_error("start", "taken") else 400

        today = first_day_today()
        first_day = max(choice.cleaned_data["start_day"] or today, today)
        last_day = first_day + timedelta(days=PHONE_BOOKING_DAYS - 1)
        slots = free_slots(
            treatment=treatment, first_day=first_day, last_day=last_day, practitioner=practitioner, now=now, rules=rules
        )
        query = {"treatment": treatment.pk, "practitioner": choice.practitioner_value()}
        context.update(
            {
                "form": form,
                "treatment": treatment,
                "practitioner": practitioner,
                "days": [
                    (day, [(start_format(slot.start), slot.local_start) for slot in day_slots])
                    for day, day_slots in slots_by_day(slots)
                ],
                "chosen_start": form.data.get("start") if form.is_bound else None,
                "first_day": first_day,
                "last_day": last_day,
                "previous_url": "?"
                + urlencode({**query, "start_day": max(today, first_day - timedelta(days=PHONE_BOOKING_DAYS))})
                if first_day > today
                else None,
                "next_url": "?" + urlencode({**query, "start_day": last_day + timedelta(days=1)}),
                "detail_fields": [form[name] for name in PHONE_BOOKING_FIELDS],
                "privacy_notice": notice,
            }
        )
        return TemplateResponse(request, "admin/booking/appointment/phone_booking.html", context, status=status)

    def phone_booking_save(self, request, form, treatment, notice):
        with transaction.atomic():
            appointment = appointment_request(
                treatment=treatment,
                start=form.cleaned_data["start"],
                patient=form.patient(),
                practitioner=form.cleaned_data["practitioner"],
                privacy_notice=notice,
                submission_key=form.cleaned_data["submission_key"],
                rules=form.rules,
            )
            # appointment_request writes the first history row; say who took the call.
            appointment.events.filter(to_status=S.REQUESTED, by=None).update(
                by=request.user, note=f"Booked by phone by {staff_name(request.user)}."
            )
        return appointment
