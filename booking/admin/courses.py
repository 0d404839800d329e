"""Courses in the admin: the planning page (from a confirmed appointment) and the read-only course page.

Registered from ``BookingConfig.ready()`` so ``booking/admin.py`` stays about appointments.
The appointment page links to planning through the URL name ``admin:booking_course_plan``
(argument: the appointment's id).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from booking.courses.services import (
    CANCELLED_STATUSES,
    MAX_INTERVAL_WEEKS,
    MAX_SESSIONS,
    MIN_INTERVAL_WEEKS,
    MIN_SESSIONS,
    CourseNotAllowed,
    Option,
    SessionTaken,
    course_check,
    course_create,
    course_progress,
    course_propose,
)
from booking.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Course, Practitioner, Weekday

# Planning books appointments, so it takes the permissions to add and change them.
PLAN_PERMISSIONS = ["booking.add_appointment", "booking.change_appointment"]
PLAN_FIELDS = ["sessions", "interval_weeks", "weekday", "preferred_time"]


def range_text(text, low, high):
    """``text``, marked with gettext_noop, translated when shown and given its bounds."""
    return gettext(text) % {"low": low, "high": high}


range_text_lazy = lazy(range_text, str)


class CoursePlanForm(forms.Form):
    sessions = forms.IntegerField(
        label=_("Number of sessions"),
        min_value=MIN_SESSIONS,
        max_value=MAX_SESSIONS,
        initial=10,
        help_text=range_text_lazy(
            # Translators: the help under "Number of sessions" on the course plan.
            gettext_noop("In all, this visit included (%(low)d to %(high)d)."),
            MIN_SESSIONS,
            MAX_SESSIONS,
        ),
    )
    interval_weeks = forms.IntegerField(
        label=_("Weeks between sessions"),
        min_value=MIN_INTERVAL_WEEKS,
        max_value=MAX_INTERVAL_WEEKS,
        initial=1,
        help_text=range_text_lazy(gettext_noop("%(low)d to %(high)d."), MIN_INTERVAL_WEEKS, MAX_INTERVAL_WEEKS),
    )
    weekday = forms.TypedChoiceField(label=_("Preferred weekday"), choices=Weekday.choices, coerce=int)
    preferred_time = forms.TimeField(
        label=_("Preferred time"),
        help_text=_("Clinic time, e.g. 10:00."),
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )


class SessionChoiceField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return Option.from_value(value)
        except ValueError:
            message = gettext("Choose one of the times offered for %(session)s.") % {"session": self.label.lower()}
            raise ValidationError(message, code="invalid") from None


class CourseApproveForm(forms.Form):
    """The chosen time for each new session, as ``session_<number>`` fields."""

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(2, sessions + 1):
            self.fields[f"session_{number}"] = SessionChoiceField(
                label=gettext("Session %(number)d") % {"number": number},
                error_messages={"required": gettext("Choose a time for session %(number)d.") % {"number": number}},
            )

    def starts(self):
        return [self.cleaned_data[name] for name in self.fields]


def can_plan(user):
    return user.has_perms(PLAN_PERMISSIONS)


def option_label(option, names):
    local = timezone.localtime(option.start, timezone.get_default_timezone())
    return gettext("%(when)s with %(practitioner)s") % {
        "when": date_format(local, "D j M Y, H:i"),
        "practitioner": names.get(option.practitioner_id) or gettext("another practitioner"),
    }


def proposal_rows(proposals, chosen):
    """What the plan table shows: each proposal with its options as radio choices."""
    names = dict(Practitioner.objects.values_list("pk", "name"))
    rows = []
    for proposal in proposals:
        values = [option.value for option in proposal.options]
        picked = chosen.get(proposal.number)
        picked = picked if picked in values else (values[0] if values else None)
        rows.append(
            {
                "proposal": proposal,
                "preferred": option_label(proposal.options[0], names) if proposal.free else None,
                "alternative": option_label(proposal.alternative, names) if proposal.alternative else None,
                "choices": [
                    {"value": value, "label": option_label(option, names), "checked": value == picked}
                    for value, option in zip(values, proposal.options, strict=True)
                ],
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
def course_plan_view(request, model_admin, appointment_id):
    """Plan a course from a confirmed appointment.

    GET without parameters: the plan form with defaults from the appointment. GET with them:
    the proposed dates (nothing is written). POST: book the chosen times, all or nothing.
    """
    if not can_plan(request.user):
        raise PermissionDenied
    appointment = get_object_or_404(Appointment.objects.select_related("treatment", "practitioner"), pk=appointment_id)
    local = timezone.localtime(appointment.starts_at, timezone.get_default_timezone())
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Plan a course from %(reference)s") % {"reference": appointment.reference},
        "opts": model_admin.model._meta,
        "appointment_opts": Appointment._meta,
        "appointment": appointment,
        "appointment_start": local,
    }
    template = "admin/booking/course/plan.html"
    try:
        course_check(appointment=appointment)
    except CourseNotAllowed as refusal:
        context["refusal"] = str(refusal)
        return TemplateResponse(request, template, context, status=409)

    data = request.POST if request.method == "POST" else (request.GET if "sessions" in request.GET else None)
    plan_form = CoursePlanForm(
        data, initial={"weekday": local.weekday(), "preferred_time": local.time().replace(second=0, microsecond=0)}
    )
    context["plan_form"] = plan_form
    if data is None:
        return TemplateResponse(request, template, context)
    if not plan_form.is_valid():
        return TemplateResponse(request, template, context, status=400)
    plan = plan_form.cleaned_data

    status, chosen = 200, {}
    if request.method == "POST":
        approve_form = CourseApproveForm(request.POST, sessions=plan["sessions"])
        chosen = {number: request.POST.get(f"session_{number}") for number in range(2, plan["sessions"] + 1)}
        if not approve_form.is_valid():
            context["approve_errors"] = [error for errors in approve_form.errors.values() for error in errors]
            status = 400
        else:
            try:
                course = course_create(
                    appointment=appointment,
                    interval_weeks=plan["interval_weeks"],
                    weekday=plan["weekday"],
                    preferred_time=plan["preferred_time"],
                    starts=approve_form.starts(),
                    by=request.user,
                )
            except CourseNotAllowed as refusal:
                context["refusal"] = str(refusal)
                return TemplateResponse(request, template, context, status=409)
            except SessionTaken as error:
                # Show the dates as they are now, with what staff chose where it still stands.
                context["approve_errors"] = [str(error)]
                status = 409
            else:
                messages.success(
                    request,
                    ngettext(
                        "Course of %(count)d session booked. The patient will get one email listing them all.",
                        "Course of %(count)d sessions booked. The patient will get one email listing them all.",
                        course.sessions,
                    )
                    % {"count": course.sessions},
                )
                return redirect("admin:booking_course_change", course.pk)

    proposals = course_propose(appointment=appointment, **plan)
    context["rows"] = proposal_rows(proposals, chosen)
    context["bookable"] = all(proposal.options for proposal in proposals)
    context["plan"] = plan
    context["clashes"] = sum(1 for proposal in proposals if not proposal.free)
    return TemplateResponse(request, template, context, status=status)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """Courses are made by the planning page and read here; their sessions change as appointments."""

    list_display = ["__str__", "patient", "treatment", "sessions", "interval_weeks", "progress", "created_at"]
    list_select_related = ["first_appointment__treatment"]
    search_fields = [
        "first_appointment__reference",
        "first_appointment__first_name",
        "first_appointment__last_name",
        "first_appointment__email",
    ]
    date_hierarchy = "created_at"
    fields = [
        "first_appointment",
        "sessions",
        "interval_weeks",
        "weekday",
        "preferred_time",
        "created_at",
        "created_by",
    ]
    readonly_fields = fields
    change_form_template = "admin/booking/course/change_form.html"

    def get_urls(self):
        plan = path(
            "plan/<int:appointment_id>/",
            self.admin_site.admin_view(self.plan_view),
            name="booking_course_plan",
        )
        return [plan, *super().get_urls()]

    def plan_view(self, request, appointment_id):
        return course_plan_view(request, self, appointment_id)

    def get_queryset(self, request):
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                done_count=Count("appointments", filter=Q(appointments__status=AppointmentStatus.COMPLETED)),
                upcoming_count=Count(
                    "appointments",
                    filter=Q(appointments__status__in=ACTIVE_STATUSES, appointments__starts_at__gte=now),
                ),
                cancelled_count=Count("appointments", filter=Q(appointments__status__in=CANCELLED_STATUSES)),
            )
        )

    # Seen with the course permissions (Reception has them; practitioners, who see only their
    # own appointments, do not). Never edited by hand: the sessions change as appointments.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Patient"), ordering="first_appointment__last_name")
    def patient(self, obj):
        return obj.first_appointment.patient_name

    @admin.display(description=_("Treatment"), ordering="first_appointment__treatment__name_en_gb")
    def treatment(self, obj):
        return obj.first_appointment.treatment.name

    @admin.display(description=_("Progress"))
    def progress(self, obj):
        return gettext("%(done)d done, %(upcoming)d upcoming, %(cancelled)d cancelled") % {
            "done": obj.done_count,
            "upcoming": obj.upcoming_count,
            "cancelled": obj.cancelled_count,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        course = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if course is not None:
            extra_context["progress"] = course_progress(course=course)
        return super().change_view(request, object_id, form_url, extra_context)
