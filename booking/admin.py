from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    Closure,
    Practitioner,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)
from booking.services import NO_OVERLAP, constraint_name, reference_new


@admin.register(Treatment)
class TreatmentAdmin(admin.ModelAdmin):
    list_display = ["name", "duration_minutes", "buffer_minutes", "position", "active"]
    list_editable = ["position", "active"]
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


class AppointmentAdminForm(forms.ModelForm):
    # Worked out here rather than typed, so Django's form validation leaves them out, and with
    # them the no-overlap constraint; validate_unique() puts them back.
    COMPUTED_FIELDS = {"ends_at", "blocked_until", "status"}

    class Meta:
        model = Appointment
        fields = ["treatment", "practitioner", "starts_at", "status", *PATIENT_FIELDS, "staff_notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            # A new appointment holds its time; later changes go through the workflow.
            self.fields["status"].choices = [(status.value, status.label) for status in ACTIVE_STATUSES]

    def clean(self):
        cleaned_data = super().clean()
        treatment, start = cleaned_data.get("treatment"), cleaned_data.get("starts_at")
        moved = self.instance.pk is None or {"treatment", "starts_at"} & set(self.changed_data)
        if treatment and start and moved:
            self.instance.ends_at = start + treatment.duration
            self.instance.blocked_until = start + treatment.duration + treatment.buffer
        return cleaned_data

    def validate_unique(self):
        super().validate_unique()
        if self.instance.blocked_until is None:
            return  # no times to check: the treatment or the start already has an error
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


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    form = AppointmentAdminForm
    list_display = ["reference", "local_start", "patient", "treatment", "practitioner", "status"]
    list_filter = ["status", "treatment", "practitioner"]
    list_select_related = ["treatment", "practitioner"]
    search_fields = ["reference", "first_name", "last_name", "email", "phone"]
    date_hierarchy = "starts_at"
    inlines = [AppointmentEventInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["treatment", "practitioner", "starts_at", "status"]}),
                ("Patient", {"fields": PATIENT_FIELDS}),
                ("Staff", {"fields": ["staff_notes"]}),
            ]
        return [
            (None, {"fields": ["reference", "status", "treatment", "practitioner", "starts_at", "ends_at"]}),
            ("Patient", {"fields": [*PATIENT_FIELDS, "consent_at", "privacy_notice"]}),
            ("Staff", {"fields": ["staff_notes"]}),
            ("Record", {"fields": ["blocked_until", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # What the patient submitted stays as they sent it; status changes go through the workflow.
        return [
            "reference",
            "status",
            "ends_at",
            "blocked_until",
            *PATIENT_FIELDS,
            "consent_at",
            "privacy_notice",
            "created_at",
            "updated_at",
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # an appointment is cancelled, never deleted: its history is the record

    @admin.display(description="Starts (clinic time)", ordering="starts_at")
    def local_start(self, obj):
        return f"{timezone.localtime(obj.starts_at):%a %d %b %Y %H:%M}"

    @admin.display(description="Patient", ordering="last_name")
    def patient(self, obj):
        return obj.patient_name

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.reference = reference_new()
        super().save_model(request, obj, form, change)
        AppointmentEvent.objects.create(
            appointment=obj, by=request.user, to_status=obj.status, note="Added by staff in the admin."
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as error:
            if constraint_name(error) != NO_OVERLAP:
                raise
        # Another booking took the time between the form's check and the save. That booking is
        # committed now, so a second pass shows the form's own message with what staff typed.
        return super().changeform_view(request, object_id, form_url, extra_context)


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
