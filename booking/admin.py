import csv
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from urllib.parse import urlencode

import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.forms import modelformset_factory
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from booking.admin_forms import PhoneBookingChoiceForm, PhoneBookingForm, ReasonForm
from booking.availability import first_day_today, free_slots, practitioners_free_at, slots_by_day
from booking.courses import planning_rules
from booking.forms import PHONE_REGION, start_format
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Closure,
    Practitioner,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)
from booking.privacy import patient_appointments, patient_erase, patient_export, patient_waitlist_entries
from booking.services import (
    ALLOWED_TRANSITIONS,
    NO_OVERLAP,
    SlotTaken,
    TransitionNotAllowed,
    appointment_move,
    appointment_request,
    appointment_transition,
    constraint_name,
)
from clinic.cache import ContentAdminMixin
from clinic.models import PrivacyNotice


@admin.register(Treatment)
class TreatmentAdmin(ContentAdminMixin, admin.ModelAdmin):
    list_display = ["name", "duration_minutes", "buffer_minutes", "position", "active"]
    list_editable = ["position", "active"]  # "active" only for who may change booking (below)
    list_filter = ["active"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["questions"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "description", "position", "active"]}),
        ("Time", {"fields": ["duration_minutes", "buffer_minutes"]}),
        ("For the patient", {"fields": ["before_visit", "aftercare"]}),
        ("FAQ", {"fields": ["questions"]}),
        ("Image", {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
    ]
    # What decides the calendar: only staff with "Can change how a treatment is booked" edit it.
    # Read-only fields are left out of the admin's form, so a value posted for them is ignored.
    BOOKING_FIELDS = ["slug", "duration_minutes", "buffer_minutes", "active"]

    @staticmethod
    def may_change_booking(request):
        return request.user.has_perm("booking.change_treatment_booking")

    def list_editable_for(self, request):
        return [
            name for name in self.list_editable if name not in self.BOOKING_FIELDS or self.may_change_booking(request)
        ]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if changelist.list_editable:  # empty in a popup
            changelist.list_editable = self.list_editable_for(request)
        return changelist

    def get_changelist_formset(self, request, **kwargs):
        # Django's own, with the fields this user may edit in the list (the posted list is checked by it too).
        return modelformset_factory(
            self.model,
            self.get_changelist_form(request),
            extra=0,
            fields=self.list_editable_for(request),
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
            **kwargs,
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.may_change_booking(request):
            readonly += self.BOOKING_FIELDS
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        if "slug" in self.get_readonly_fields(request, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def has_add_permission(self, request):
        # A new treatment is bookable at once: its duration and address are the manager's to set.
        return super().has_add_permission(request) and self.may_change_booking(request)


class WorkingHoursFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        by_day = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not form.is_valid():
                continue
            weekday, start, end = data.get("weekday"), data.get("start_time"), data.get("end_time")
            if weekday is None or start is None or end is None:
                continue
            by_day.setdefault(int(weekday), []).append((start, end, form))
        problems = []
        for ranges in by_day.values():
            ranges.sort(key=lambda item: item[0])
            for (start, end, form), (next_start, next_end, _) in zip(ranges, ranges[1:], strict=False):
                if next_start < end:
                    day = form.instance.get_weekday_display()
                    problems.append(
                        f"{day} {start:%H:%M}–{end:%H:%M} overlaps {day} {next_start:%H:%M}–{next_end:%H:%M}."
                    )
        if problems:
            raise ValidationError(
                " ".join(problems) + " Ranges on the same day must not overlap; for a break, end one range "
                "before the next starts.",
                code="overlapping_hours",
            )


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 1


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "treatments"]
    search_fields = ["name"]
    filter_horizontal = ["treatments"]
    inlines = [WorkingHoursInline]
    fieldsets = [
        (None, {"fields": ["name", "bio", "treatments", "position", "active"]}),
        ("Image", {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
    ]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["who", "starts_at", "ends_at", "reason"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner"]
    date_hierarchy = "starts_at"
    search_fields = ["reason", "practitioner__name"]
    fields = ["practitioner", "starts_at", "ends_at", "reason"]

    @admin.display(description="Who", ordering="practitioner__name")
    def who(self, obj):
        return obj.practitioner or "Whole clinic"


PATIENT_FIELDS = ["first_name", "last_name", "email", "phone", "first_visit", "message"]
# Groups are created by a migration; the admin knows them by name only here.
PRACTITIONERS_GROUP = "Practitioners"
TAKEN = next(c for c in Appointment._meta.constraints if c.name == NO_OVERLAP).violation_error_message
S = AppointmentStatus


# How far ahead "Book for a patient" lets staff book.
STAFF_BOOKING_HORIZON_DAYS = 2 * 365


def staff_booking_rules(*, now):
    """The booking rules staff booking by phone meet: no minimum notice, a horizon of two years.

    With the patient on the line, reception decides whether this afternoon is too soon; the
    practitioner's hours, closures, the slot step, the past and other visits still count.
    """
    last_day = timezone.localdate(now, timezone.get_default_timezone()) + timedelta(days=STAFF_BOOKING_HORIZON_DAYS)
    return planning_rules(last_day=last_day, now=now)


def staff_move_rules(*, start, now):
    """The booking rules a move by staff meets: no minimum notice and no horizon.

    Those keep patients from booking at the last minute or too far ahead; reception moving a visit
    with the patient on the phone decides that itself, as when planning a course.
    """
    return planning_rules(last_day=timezone.localdate(start, timezone.get_default_timezone()), now=now)


class AppointmentAdminForm(forms.ModelForm):
    """An existing appointment's page: staff notes, and a move to another time or practitioner.

    New appointments are booked through "Book for a patient" (AppointmentAdmin.phone_booking_view).
    """

    # Worked out here rather than typed, so Django's form validation leaves them out, and with
    # them the no-overlap constraint; validate_unique() puts them back.
    COMPUTED_FIELDS = {"ends_at", "blocked_until", "status"}

    class Meta:
        model = Appointment
        fields = ["practitioner", "starts_at", "staff_notes"]

    @property
    def is_move(self):
        """Staff changed the time or the practitioner."""
        return bool({"starts_at", "practitioner"} & set(self.changed_data))

    def clean(self):
        cleaned_data = super().clean()
        treatment = self.instance.treatment
        start = cleaned_data.get("starts_at")
        if start and self.is_move:
            self.instance.ends_at = start + treatment.duration
            self.instance.blocked_until = start + treatment.duration + treatment.buffer
            if cleaned_data.get("practitioner"):
                self.move_check(treatment, start, cleaned_data["practitioner"])
        return cleaned_data

    def move_check(self, treatment, start, practitioner):
        """A move must land on a free time: the practitioner's hours, closures and other visits count,
        the patients' notice and horizon do not (``staff_move_rules``)."""
        now = timezone.now()
        if start <= now:
            self.add_error(
                "starts_at", ValidationError("That time has already passed. Choose a time to come.", code="past")
            )
            return
        if practitioners_free_at(
            treatment=treatment,
            start=start,
            practitioner=practitioner,
            now=now,
            rules=staff_move_rules(start=start, now=now),
            ignore_appointment=self.instance,
        ):
            return
        busy = (
            Appointment.objects.active()
            .overlapping(start, start + treatment.duration + treatment.buffer)
            .filter(practitioner=practitioner)
            .exclude(pk=self.instance.pk)
        )
        if busy.exists():
            self.add_error("starts_at", ValidationError(TAKEN, code="taken"))
        else:
            self.add_error(
                "starts_at",
                ValidationError(
                    f"{practitioner} is not free for {treatment} then: the time is outside their hours, in time off "
                    "or a closure, or not on the booking grid. Choose a free time, e.g. from the agenda.",
                    code="unavailable",
                ),
            )

    def validate_unique(self):
        super().validate_unique()
        if self.has_error("starts_at"):
            return  # the move check has already said why not
        exclude = self._get_validation_exclusions() - self.COMPUTED_FIELDS
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self.add_error(None, error)


class AppointmentEventInline(admin.TabularInline):
    model = AppointmentEvent
    fields = ["at", "by", "from_status", "to_status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AppointmentDateFilter(admin.SimpleListFilter):
    """Days as the clinic counts them (its own zone), not as UTC does."""

    title = "date"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("week", "This week"), ("upcoming", "Upcoming"), ("past", "Past")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "upcoming":
            return queryset.filter(starts_at__gte=timezone.now())
        if value == "past":
            return queryset.filter(starts_at__lt=timezone.now())
        if value in ("today", "week"):
            today = timezone.localdate()
            first = today if value == "today" else today - timedelta(days=today.weekday())
            days = 1 if value == "today" else 7
            tz = timezone.get_current_timezone()
            start = datetime.combine(first, time.min, tzinfo=tz)
            end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=tz)
            return queryset.filter(starts_at__gte=start, starts_at__lt=end)
        return queryset


@dataclass(frozen=True)
class StatusAction:
    """One step of the workflow as staff see it: a button, an admin action, a line in a report."""

    name: str
    to_status: str
    button: str
    done: str  # "3 confirmed"
    permission: str  # "decide" (reception's decisions) or "outcome" (how the visit went)
    needs_reason: bool = False


STATUS_ACTIONS = {
    action.name: action
    for action in [
        StatusAction("confirm", S.CONFIRMED, "Confirm", "confirmed", "decide"),
        StatusAction("decline", S.DECLINED, "Decline", "declined", "decide", needs_reason=True),
        StatusAction(
            "cancel", S.CANCELLED_BY_CLINIC, "Cancel (by the clinic)", "cancelled", "decide", needs_reason=True
        ),
        StatusAction("complete", S.COMPLETED, "Mark completed", "marked completed", "outcome"),
        StatusAction("no_show", S.NO_SHOW, "Mark no-show", "marked no-show", "outcome"),
    ]
}

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
    writer.writerows(csv_row(appointment) for appointment in appointments)
    return response


def waited(since, now):
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def staff_name(user):
    return user.get_full_name() or user.get_username()


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    form = AppointmentAdminForm
    list_display = ["reference", "local_start", "patient", "treatment", "practitioner", "status_badge", "waiting"]
    list_filter = ["status", "treatment", "practitioner", AppointmentDateFilter]
    list_select_related = ["treatment", "practitioner"]
    search_fields = ["reference", "first_name", "last_name", "email", "phone"]
    search_help_text = "Reference, name, email, or phone number in any format (020 7946 0000, +44 20 7946 0000)."
    date_hierarchy = "starts_at"
    # Requests waiting for a decision first, newest first; then everything else, newest first.
    ordering = [Case(When(status=S.REQUESTED, then=Value(0)), default=Value(1)).asc(), "-created_at"]
    inlines = [AppointmentEventInline]
    actions = ["confirm", "decline", "cancel", "mark_completed", "mark_no_show", "export_csv"]

    class Media:
        css = {"all": ["css/admin-booking.css"]}

    # Who may do what. Reception decides; practitioners record how their visits went.

    def practitioner_only(self, request):
        """A practitioner's login: sees and works on their own appointments only."""
        user = request.user
        if user.is_superuser:
            return False
        if not hasattr(request, "_booking_practitioner_only"):
            in_group = user.groups.filter(name=PRACTITIONERS_GROUP).exists()
            linked = Practitioner.objects.filter(user=user).exists()
            request._booking_practitioner_only = in_group or (
                linked and not user.has_perm("booking.change_appointment")
            )
        return request._booking_practitioner_only

    def has_decide_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and not self.practitioner_only(request)

    def has_outcome_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_export_permission(self, request):
        return request.user.has_perm("booking.export_appointment")

    def has_add_permission(self, request):
        # Django's add form would skip the booking rules (hours, closures, notice) and the patient's
        # emails; staff book through "Book for a patient" instead (has_book_permission).
        return False

    def has_book_permission(self, request):
        """Book for a patient: the model's add permission, never a practitioner's login."""
        return super().has_add_permission(request) and not self.practitioner_only(request)

    def has_delete_permission(self, request, obj=None):
        return False  # an appointment is cancelled, never deleted: its history is the record

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.practitioner_only(request):
            queryset = queryset.filter(practitioner__user=request.user)
        return queryset

    # The list.

    @admin.display(description="Starts (clinic time)", ordering="starts_at")
    def local_start(self, obj):
        return f"{timezone.localtime(obj.starts_at):%a %d %b %Y %H:%M}"

    @admin.display(description="Patient", ordering="last_name")
    def patient(self, obj):
        return obj.patient_name

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="Waiting", ordering="created_at")
    def waiting(self, obj):
        if obj.status != S.REQUESTED:
            return "–"
        return waited(obj.created_at, timezone.now())

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = phone_e164(search_term)
        if phone:
            # Stored as E.164; a patient reads their number out however they write it.
            found = found | queryset.filter(phone=phone)
        return found, may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        context = {
            "can_book": self.has_book_permission(request),
            "can_export": self.has_export_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    # The single appointment's page.

    def add_view(self, request, form_url="", extra_context=None):
        # Old bookmarks and links to Django's add page land where staff book.
        if not self.has_book_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:booking_appointment_book"))

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["reference", "status", "treatment", "practitioner", "starts_at", "ends_at"]}),
            ("Patient (as they sent it)", {"fields": [*PATIENT_FIELDS, "consent_at", "privacy_notice"]}),
            ("Staff", {"fields": ["staff_notes"]}),
            ("Emails", {"fields": ["emails"]}),
            ("Record", {"fields": ["blocked_until", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # What the patient submitted stays as they sent it; status changes go through the workflow;
        # a move keeps the treatment (its length decides the time the move needs).
        readonly = [
            "reference",
            "status",
            "treatment",
            "ends_at",
            "blocked_until",
            *PATIENT_FIELDS,
            "consent_at",
            "privacy_notice",
            "created_at",
            "updated_at",
            "emails",
        ]
        if not obj.is_active or self.practitioner_only(request):
            readonly += ["practitioner", "starts_at"]
        return readonly

    @admin.display(description="Queued and sent")
    def emails(self, obj):
        rows = [
            (
                message.get_kind_display(),
                message.get_status_display(),
                f"{timezone.localtime(message.send_after):%d %b %Y %H:%M}",
                f"{timezone.localtime(message.sent_at):%d %b %Y %H:%M}" if message.sent_at else "–",
            )
            for message in obj.messages.order_by("created_at", "pk")
        ]
        if not rows:
            return "None yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="appointment-emails"><thead><tr><th scope="col">Email</th><th scope="col">Status</th>'
            '<th scope="col">Send from</th><th scope="col">Sent</th></tr></thead><tbody>{}</tbody></table>',
            body,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["status_actions"] = [
                {"action": action, "url": self.status_url(obj, action)}
                for action in self.status_actions_for(request, obj)
            ]
            # The course pages (booking/course_admin.py) plan sessions from a confirmed visit.
            context["can_plan_course"] = (
                obj.status == S.CONFIRMED
                and request.user.has_perms(["booking.add_appointment", "booking.change_appointment"])
                and not self.practitioner_only(request)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def status_actions_for(self, request, obj):
        """The status changes this user may make to this appointment now."""
        allowed = ALLOWED_TRANSITIONS[S(obj.status)]
        return [
            action
            for action in STATUS_ACTIONS.values()
            if action.to_status in allowed and getattr(self, f"has_{action.permission}_permission")(request, obj)
        ]

    def status_url(self, obj, action):
        return reverse("admin:booking_appointment_status", args=[obj.pk, action.name])

    def save_model(self, request, obj, form, change):
        if form.is_move:
            # Through the one place that moves: history, the patient's email, the waitlist.
            now = timezone.now()
            appointment_move(
                appointment=Appointment.objects.select_related("treatment").get(pk=obj.pk),
                start=obj.starts_at,
                practitioner=obj.practitioner,
                by=request.user,
                by_patient=False,
                now=now,
                rules=staff_move_rules(start=obj.starts_at, now=now),
            )
        obj.save(update_fields=["staff_notes", "updated_at"])

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SlotTaken:
            pass
        except TransitionNotAllowed as refused:
            self.message_user(request, f"Not changed: {refused}", messages.WARNING)
            return HttpResponseRedirect(request.path)
        # Another booking took the time between the form's check and the save. That booking is
        # committed now, so a second pass shows the form's own message with what staff typed.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SlotTaken:
            self.message_user(request, f"Not changed: {TAKEN}", messages.WARNING)
            return HttpResponseRedirect(request.path)

    # Status changes, from the list (several rows) or the appointment's page (one).

    def transition_one(self, request, appointment, action, note=""):
        """Apply one status change; a sentence saying why not, or None when it was done."""
        try:
            appointment_transition(appointment=appointment, to_status=action.to_status, by=request.user, note=note)
        except TransitionNotAllowed as refused:
            if refused.appointment.status == action.to_status:
                return f"{appointment.reference} is already {action.done.removeprefix('marked ')}."
            return str(refused)
        except (SlotTaken, IntegrityError) as error:
            if isinstance(error, IntegrityError) and constraint_name(error) != NO_OVERLAP:
                raise
            return f"{appointment.reference} clashes with another appointment at that time."
        return None

    def transition_many(self, request, queryset, action, note=""):
        done, skipped = 0, []
        for appointment in queryset.order_by("starts_at", "pk"):
            problem = self.transition_one(request, appointment, action, note)
            if problem:
                skipped.append(problem)
            else:
                done += 1
        report = f"{done} {action.done}"
        if skipped:
            report += f"; {len(skipped)} skipped: " + " ".join(skipped)
        else:
            report += "."
        self.message_user(request, report, messages.WARNING if skipped else messages.SUCCESS)

    def transition_with_reason(self, request, queryset, action):
        """Like Django's delete confirmation: a page asking for the reason, then the change."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self.transition_many(request, queryset, action, note=form.cleaned_data["reason"])
            return None  # back to the list, which shows the report
        appointments = list(queryset.select_related("treatment").order_by("starts_at", "pk"))
        hidden = [(helpers.ACTION_CHECKBOX_NAME, a.pk) for a in appointments] + [("action", action.name)]
        return self.status_page(request, action, appointments, form, hidden, status=400 if form.is_bound else 200)

    def status_page(self, request, action, appointments, form, hidden, status=200):
        count = len(appointments)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.button}: {count} appointment{pluralize(count)}",
            "opts": self.model._meta,
            "action": action,
            "appointments": appointments,
            "form": form,
            "hidden": hidden,
            "back_url": request.META.get("HTTP_REFERER")
            if url_has_allowed_host_and_scheme(request.META.get("HTTP_REFERER"), {request.get_host()})
            else reverse("admin:booking_appointment_changelist"),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/booking/appointment/status_change.html", context, status=status)

    @admin.action(permissions=["decide"], description="Confirm the selected requests")
    def confirm(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["confirm"])

    @admin.action(permissions=["decide"], description="Decline the selected requests (with a reason)")
    def decline(self, request, queryset):
        return self.transition_with_reason(request, queryset, STATUS_ACTIONS["decline"])

    @admin.action(permissions=["decide"], description="Cancel the selected appointments by the clinic (with a reason)")
    def cancel(self, request, queryset):
        return self.transition_with_reason(request, queryset, STATUS_ACTIONS["cancel"])

    @admin.action(permissions=["outcome"], description="Mark the selected appointments completed")
    def mark_completed(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["complete"])

    @admin.action(permissions=["outcome"], description="Mark the selected appointments as no-show")
    def mark_no_show(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["no_show"])

    @admin.action(permissions=["export"], description="Export the selected appointments to CSV")
    def export_csv(self, request, queryset):
        return csv_response(queryset.select_related("treatment", "practitioner").order_by("starts_at", "pk"))

    # Pages of their own.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            # The patient's details arrive in these POSTs: error reports show them masked.
            path(
                "book/",
                view(sensitive_post_parameters(*PHONE_BOOKING_FIELDS)(self.phone_booking_view)),
                name="booking_appointment_book",
            ),
            path(
                "patient-data/",
                view(sensitive_post_parameters("email")(self.patient_data_view)),
                name="booking_appointment_patient_data",
            ),
            path("export/", view(self.export_view), name="booking_appointment_export"),
            path(
                "<path:object_id>/status/<slug:action_name>/",
                view(self.status_view),
                name="booking_appointment_status",
            ),
            *super().get_urls(),
        ]

    def status_view(self, request, object_id, action_name):
        """One appointment's status change: POST applies it; GET (or a missing reason) shows the form."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        action = STATUS_ACTIONS.get(action_name)
        if action is None:
            raise Http404("No such status change.")
        appointment = self.get_object(request, unquote(object_id))
        if appointment is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not getattr(self, f"has_{action.permission}_permission")(request, appointment):
            raise PermissionDenied
        change_url = reverse("admin:booking_appointment_change", args=[appointment.pk])
        form = ReasonForm(request.POST or None) if action.needs_reason else None
        if request.method == "POST" and (form is None or form.is_valid()):
            note = form.cleaned_data["reason"] if form else ""
            problem = self.transition_one(request, appointment, action, note)
            if problem:
                self.message_user(request, f"Not changed: {problem}", messages.WARNING)
            else:
                self.message_user(request, f"{appointment.reference} {action.done}.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        status = 400 if form is not None and form.is_bound else 200
        return self.status_page(request, action, [appointment], form, [], status=status)

    def export_view(self, request):
        """The list as filtered and searched on screen, as CSV."""
        if not self.has_view_permission(request) or not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Those filters could not be read. Go back to the list and try again.")
        appointments = changelist.queryset.select_related("treatment", "practitioner").order_by("starts_at", "pk")
        return csv_response(appointments)

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
            "title": "Book for a patient",
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
                        f"{appointment.reference} booked for {appointment.patient_name} on {local:%a %d %b %Y %H:%M} "
                        "as a request; confirm it when it suits.",
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

    def patient_data_view(self, request):
        """Export or erase everything held about one patient, found by email. Both are logged in the history."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not request.user.has_perm("booking.manage_patient_data"):
            raise PermissionDenied
        form = PatientDataForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Patient data: export or erase",
            "opts": self.model._meta,
            "form": form,
            "media": self.media,
        }
        if request.method == "GET":
            return TemplateResponse(request, "admin/booking/patient_data.html", context)
        if not form.is_valid():
            return TemplateResponse(request, "admin/booking/patient_data.html", context, status=400)
        email = form.cleaned_data["email"]
        appointments = patient_appointments(email).select_related("treatment").order_by("starts_at", "pk")
        entries = patient_waitlist_entries(email).select_related("treatment").order_by("created_at", "pk")
        if not appointments.exists() and not entries.exists():
            form.add_error("email", ValidationError(PATIENT_NOT_FOUND, code="not_found"))
            return TemplateResponse(request, "admin/booking/patient_data.html", context, status=404)
        action = form.cleaned_data["action"]
        if action == "export":
            data = patient_export(email=email, by=request.user)
            response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
            # No address in the file name: it ends up in download lists and browser history.
            filename = f"patient-data-{timezone.localdate():%Y-%m-%d}.json"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["Cache-Control"] = "no-store"
            return response
        if action == "erase" and form.cleaned_data["confirm"]:
            erasure = patient_erase(email=email, by=request.user)
            done = (
                f"Personal data erased from {erasure.appointments} appointment{pluralize(erasure.appointments)} "
                f"and {erasure.waitlist_entries} waitlist entr{pluralize(erasure.waitlist_entries, 'y,ies')}"
            )
            if erasure.cancelled:
                done += f"; {erasure.cancelled} future visit{pluralize(erasure.cancelled)} cancelled"
            self.message_user(request, f"{done}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:booking_appointment_patient_data"))
        context.update({"email": email, "appointments": appointments, "entries": entries, "now": timezone.now()})
        return TemplateResponse(request, "admin/booking/patient_data_erase.html", context)

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


PATIENT_NOT_FOUND = "Nothing is held under this email address (no appointment, no waitlist entry)."


class PatientDataForm(forms.Form):
    email = forms.EmailField(
        label="Patient's email address", max_length=254, help_text="As the patient gave it when booking."
    )
    action = forms.ChoiceField(choices=[("export", "Export"), ("erase", "Erase")], widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


PHONE_BOOKING_DAYS = 14
PHONE_BOOKING_FIELDS = ["first_name", "last_name", "email", "phone", "first_visit", "message"]
TAKEN_MESSAGE_STAFF = "That time was taken a moment ago by another booking. Choose another time; the details are kept."


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


WAITLIST_PATIENT_FIELDS = ["first_name", "last_name", "email", "phone", "consent_at", "privacy_notice"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ["patient", "treatment", "date_from", "date_to", "status", "local_offered_start", "created_at"]
    list_filter = ["status", "treatment"]
    list_select_related = ["treatment"]
    search_fields = ["first_name", "last_name", "email"]
    date_hierarchy = "created_at"
    actions = ["withdraw"]
    fieldsets = [
        (None, {"fields": ["treatment", "date_from", "date_to", "status"]}),
        ("Patient", {"fields": WAITLIST_PATIENT_FIELDS}),
        ("Offer", {"fields": ["offered_start", "offered_at", "appointment"]}),
        ("Record", {"fields": ["created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Offers and bookings happen through the waitlist's own steps, never by hand.
        readonly = [
            "status",
            "offered_start",
            "offered_at",
            "appointment",
            "created_at",
            "consent_at",
            "privacy_notice",
        ]
        if obj is not None:
            readonly += ["first_name", "last_name", "email", "phone"]  # as the patient sent them
        return readonly

    @admin.display(description="Patient", ordering="last_name")
    def patient(self, obj):
        return f"{obj.first_name} {obj.last_name}"

    @admin.display(description="Offered time (clinic time)", ordering="offered_start")
    def local_offered_start(self, obj):
        return f"{timezone.localtime(obj.offered_start):%a %d %b %Y %H:%M}" if obj.offered_start else "–"

    @admin.action(description="Withdraw the selected entries (no more offers)")
    def withdraw(self, request, queryset):
        count = queryset.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]).update(
            status=WaitlistStatus.WITHDRAWN
        )
        self.message_user(request, f"{count} waitlist {'entry' if count == 1 else 'entries'} withdrawn.")
