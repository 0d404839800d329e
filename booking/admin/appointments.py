"""Appointments in the admin: the list reception works from, and one appointment's page."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Value, When
from django.http import (
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from booking.admin.appointment_actions import StatusActionsMixin
from booking.admin.dates import clinic_time
from booking.admin.health import answers_table
from booking.admin.patient_data import PatientDataMixin
from booking.admin.phone_booking import (
    PHONE_BOOKING_FIELDS,
    PhoneBookingMixin,
    phone_e164,
)
from booking.appointments.services import (
    NO_OVERLAP,
    SlotTaken,
    TransitionNotAllowed,
    appointment_move,
)
from booking.courses.services import planning_rules
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Practitioner,
)
from booking.schedule.availability import practitioners_free_at

PATIENT_FIELDS = ["first_name", "last_name", "email", "phone", "first_visit", "message"]


# Groups are created by a migration; the admin knows them by name only here.
PRACTITIONERS_GROUP = "Practitioners"


TAKEN = next(c for c in Appointment._meta.constraints if c.name == NO_OVERLAP).violation_error_message


S = AppointmentStatus


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
                "starts_at",
                ValidationError(gettext("That time has already passed. Choose a time to come."), code="past"),
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
                    gettext(
                        "%(practitioner)s is not free for %(treatment)s then: the time is outside their hours, in "
                        "time off or a closure, or not on the booking grid. Choose a free time, e.g. from the agenda."
                    )
                    % {"practitioner": practitioner, "treatment": treatment},
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

    title = _("date")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("week", _("This week")), ("upcoming", _("Upcoming")), ("past", _("Past"))]

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


def waited(since, now):
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return gettext("%(minutes)d min") % {"minutes": max(minutes, 0)}
    if minutes < 48 * 60:
        return gettext("%(hours)d h") % {"hours": minutes // 60}
    return gettext("%(days)d d") % {"days": minutes // (24 * 60)}


@admin.register(Appointment)
class AppointmentAdmin(StatusActionsMixin, PhoneBookingMixin, PatientDataMixin, admin.ModelAdmin):
    form = AppointmentAdminForm
    list_display = ["reference", "local_start", "patient", "treatment", "practitioner", "status_badge", "waiting"]
    list_filter = ["status", "treatment", "practitioner", AppointmentDateFilter]
    list_select_related = ["treatment", "practitioner"]
    search_fields = ["reference", "first_name", "last_name", "email", "phone"]
    search_help_text = _("Reference, name, email, or phone number in any format (020 7946 0000, +44 20 7946 0000).")
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

    @admin.display(description=_("Starts (clinic time)"), ordering="starts_at")
    def local_start(self, obj):
        return clinic_time(obj.starts_at)

    @admin.display(description=_("Patient"), ordering="last_name")
    def patient(self, obj):
        return obj.patient_name

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("Waiting"), ordering="created_at")
    def waiting(self, obj):
        if obj.status != S.REQUESTED:
            return "–"
        if obj.email_confirmed_at is None:
            # Not on the clinic's desk yet: the patient has not confirmed the address.
            return gettext("%(waited)s (email not confirmed)") % {"waited": waited(obj.created_at, timezone.now())}
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
            (
                _("Patient (as they sent it)"),
                {"fields": [*PATIENT_FIELDS, "consent_at", "privacy_notice", "email_confirmed_at", "expires_at"]},
            ),
            (_("Staff"), {"fields": ["staff_notes"]}),
            (_("Emails"), {"fields": ["emails"]}),
            (_("Record"), {"fields": ["blocked_until", "created_at", "updated_at"]}),
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
            "email_confirmed_at",
            "expires_at",
            "created_at",
            "updated_at",
            "emails",
        ]
        if not obj.is_active or self.practitioner_only(request):
            readonly += ["practitioner", "starts_at"]
        return readonly

    @admin.display(description=_("Queued and sent"))
    def emails(self, obj):
        rows = [
            (
                message.get_kind_display(),
                message.get_status_display(),
                clinic_time(message.send_after, "d M Y H:i"),
                clinic_time(message.sent_at, "d M Y H:i"),
            )
            for message in obj.messages.order_by("created_at", "pk")
        ]
        if not rows:
            return gettext("None yet.")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="appointment-emails"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            gettext("Email"),
            gettext("Status"),
            gettext("Send from"),
            gettext("Sent"),
            body,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["health_answers"] = answers_table(request, obj.health_answers.all())
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
            self.message_user(request, gettext("Not changed: %(reason)s") % {"reason": refused}, messages.WARNING)
            return HttpResponseRedirect(request.path)
        # Another booking took the time between the form's check and the save. That booking is
        # committed now, so a second pass shows the form's own message with what staff typed.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SlotTaken:
            self.message_user(request, gettext("Not changed: %(reason)s") % {"reason": TAKEN}, messages.WARNING)
            return HttpResponseRedirect(request.path)

    # Status changes, from the list (several rows) or the appointment's page (one).

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
