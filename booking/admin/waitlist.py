"""The waitlist in the admin: who waits for which days, and what they were offered."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.admin.dates import clinic_time
from booking.models import (
    WaitlistEntry,
    WaitlistStatus,
)

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
        (_("Patient"), {"fields": WAITLIST_PATIENT_FIELDS}),
        (_("Offer"), {"fields": ["offered_start", "offered_at", "appointment"]}),
        (_("Record"), {"fields": ["created_at"]}),
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

    @admin.display(description=_("Patient"), ordering="last_name")
    def patient(self, obj):
        return f"{obj.first_name} {obj.last_name}"

    @admin.display(description=_("Offered time (clinic time)"), ordering="offered_start")
    def local_offered_start(self, obj):
        return clinic_time(obj.offered_start)

    @admin.action(description=_("Withdraw the selected entries (no more offers)"))
    def withdraw(self, request, queryset):
        count = queryset.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]).update(
            status=WaitlistStatus.WITHDRAWN
        )
        self.message_user(
            request,
            ngettext("%(count)d waitlist entry withdrawn.", "%(count)d waitlist entries withdrawn.", count)
            % {"count": count},
        )
