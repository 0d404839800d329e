"""The outbox: every email the site sent, is sending or gave up on, and "send again" for failed ones.

A message holds no address; its recipient is the patient of its appointment or waitlist entry.
Staff see that address (and the appointment's reference) only where they may see the patient
anyway, so the list is no way around the appointment and waitlist permissions.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from booking.admin.dates import clinic_time
from booking.emails.outbox import message_resend, messages_give_up
from booking.models import CLINIC_KINDS, Message, MessageStatus

HIDDEN = _("Hidden (you may not see this patient)")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display_links = None  # the list shows all there is; an email's page shows no recipient
    list_filter = ["status", "kind"]
    list_select_related = ["appointment", "waitlist_entry"]
    date_hierarchy = "created_at"
    actions = ["resend", "give_up"]
    fields = ["kind", "status", "local_created", "local_send_after", "local_sent", "attempts", "error"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # emails are owed by what happens to appointments

    def has_change_permission(self, request, obj=None):
        return False  # read-only: the actions below are the only way to act on an email

    def has_delete_permission(self, request, obj=None):
        return False  # old rows are pruned by `manage.py messages_prune`

    def has_resend_permission(self, request):
        return request.user.has_perm("booking.change_message")

    def may_see_patient(self, request, obj):
        if obj.kind in CLINIC_KINDS:
            return True
        if obj.waitlist_entry_id:
            return request.user.has_perm("booking.view_waitlistentry")
        return request.user.has_perm("booking.view_appointment")

    def get_list_display(self, request):
        # The recipient columns depend on who looks; the admin instance is shared between requests.
        def to(obj):
            if obj.kind in CLINIC_KINDS:
                return gettext("The clinic")
            if not self.may_see_patient(request, obj):
                return HIDDEN
            entry = obj.waitlist_entry
            return entry.email if entry else obj.appointment.email

        def about(obj):
            if obj.appointment_id is None:
                return gettext("Waitlist entry")
            if not request.user.has_perm("booking.view_appointment"):
                return gettext("An appointment")
            url = reverse("admin:booking_appointment_change", args=[obj.appointment_id])
            return format_html('<a href="{}">{}</a>', url, obj.appointment.reference)

        to.short_description = _("To")
        about.short_description = _("Appointment")
        return ["kind", "status", to, about, "local_created", "local_sent", "attempts", "error"]

    @admin.display(description=_("Queued (clinic time)"), ordering="created_at")
    def local_created(self, obj):
        return clinic_time(obj.created_at)

    @admin.display(description=_("Due (clinic time)"), ordering="send_after")
    def local_send_after(self, obj):
        return clinic_time(obj.send_after)

    @admin.display(description=_("Sent (clinic time)"), ordering="sent_at")
    def local_sent(self, obj):
        return clinic_time(obj.sent_at)

    @admin.display(description=_("Last error"))
    def error(self, obj):
        return obj.last_error or "–"

    @admin.action(description=_("Send the selected failed emails again"), permissions=["resend"])
    def resend(self, request, queryset):
        ids = list(queryset.filter(status=MessageStatus.FAILED).values_list("pk", flat=True))
        sent = [message_id for message_id in ids if message_resend(message_id=message_id)]
        for message in Message.objects.filter(pk__in=sent):
            self.log_change(request, message, "Sent again.")
        skipped = queryset.count() - len(sent)
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email queued to be sent again.", "%(count)d emails queued to be sent again.", len(sent)
                )
                % {"count": len(sent)},
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email not sent again: only failed emails can be, and only once.",
                    "%(count)d emails not sent again: only failed emails can be, and only once.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Mark the selected failed emails as dealt with (not sent)"), permissions=["resend"])
    def give_up(self, request, queryset):
        count = messages_give_up(messages=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed email marked as dealt with.", "%(count)d failed emails marked as dealt with.", count
            )
            % {"count": count},
        )
