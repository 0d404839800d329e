"""What the calendar is made of: treatments, practitioners with their working hours, closures."""

from functools import partial

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import modelformset_factory
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from booking.admin.health import HealthQuestionInline
from booking.models import (
    Closure,
    Practitioner,
    Treatment,
    WorkingHours,
)
from clinic.cache import ContentAdminMixin
from clinic.translation_admin import TranslatedAdmin, untranslated


@admin.register(Treatment)
class TreatmentAdmin(ContentAdminMixin, TranslatedAdmin):
    list_display = ["name", "duration_minutes", "buffer_minutes", "position", "active"]
    list_editable = ["position", "active"]  # "active" only for who may change booking (below)
    list_filter = ["active"]
    search_fields = ["name_en_gb", "name_fr", "summary_en_gb", "summary_fr"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["questions"]
    inlines = [HealthQuestionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "description", "position", "active"]}),
        (_("Time"), {"fields": ["duration_minutes", "buffer_minutes"]}),
        (_("For the patient"), {"fields": ["before_visit", "aftercare"]}),
        (_("FAQ"), {"fields": ["questions"]}),
        (_("Image"), {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
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

    def untranslated_parts(self, obj):
        count = sum(1 for question in obj.health_questions.all() if untranslated(question))
        if not count:
            return []
        return [
            ngettext("%(count)d health question(s) (below)", "%(count)d health question(s) (below)", count)
            % {"count": count}
        ]

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
            for (start, end, form), (next_start, next_end, _next_form) in zip(ranges, ranges[1:], strict=False):
                if next_start < end:
                    day = form.instance.get_weekday_display()
                    problems.append(
                        gettext("%(day)s %(start)s–%(end)s overlaps %(day)s %(next_start)s–%(next_end)s.")
                        % {
                            "day": day,
                            "start": f"{start:%H:%M}",
                            "end": f"{end:%H:%M}",
                            "next_start": f"{next_start:%H:%M}",
                            "next_end": f"{next_end:%H:%M}",
                        }
                    )
        if problems:
            raise ValidationError(
                gettext(
                    "%(problems)s Ranges on the same day must not overlap; for a break, end one range before the "
                    "next starts."
                )
                % {"problems": " ".join(problems)},
                code="overlapping_hours",
            )


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 1


@admin.register(Practitioner)
class PractitionerAdmin(ContentAdminMixin, TranslatedAdmin):
    # Treatment pages show each active practitioner's name, bio and photo.
    list_display = ["name", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "treatments"]
    search_fields = ["name"]
    filter_horizontal = ["treatments"]
    inlines = [WorkingHoursInline]
    fieldsets = [
        (None, {"fields": ["name", "bio", "treatments", "position", "active"]}),
        (_("Image"), {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
    ]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["who", "starts_at", "ends_at", "reason"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner"]
    date_hierarchy = "starts_at"
    search_fields = ["reason", "practitioner__name"]
    fields = ["practitioner", "starts_at", "ends_at", "reason"]

    @admin.display(description=_("Who"), ordering="practitioner__name")
    def who(self, obj):
        return obj.practitioner or gettext("Whole clinic")
