"""What staff do to appointments: confirm, decline, cancel, mark done or no-show, one or many, and export."""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import (
    Http404,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from booking.admin.export import csv_response
from booking.admin.forms import ReasonForm
from booking.appointments.services import (
    ALLOWED_TRANSITIONS,
    NO_OVERLAP,
    SlotTaken,
    TransitionNotAllowed,
    appointment_transition,
    constraint_name,
)
from booking.models import AppointmentStatus as S


@dataclass(frozen=True)
class StatusAction:
    """One step of the workflow as staff see it: a button, an admin action, a line in a report."""

    name: str
    to_status: str
    button: str
    done: str  # "3 confirmed": lazy, both forms, formatted with {"count": n}
    done_one: str  # "ABCD2345 confirmed."
    already: str  # "ABCD2345 is already confirmed."
    permission: str  # "decide" (reception's decisions) or "outcome" (how the visit went)
    needs_reason: bool = False


STATUS_ACTIONS = {
    action.name: action
    for action in [
        StatusAction(
            "confirm",
            S.CONFIRMED,
            _("Confirm"),
            ngettext_lazy("%(count)d confirmed", "%(count)d confirmed", "count"),
            _("%(reference)s confirmed."),
            _("%(reference)s is already confirmed."),
            "decide",
        ),
        StatusAction(
            "decline",
            S.DECLINED,
            _("Decline"),
            ngettext_lazy("%(count)d declined", "%(count)d declined", "count"),
            _("%(reference)s declined."),
            _("%(reference)s is already declined."),
            "decide",
            needs_reason=True,
        ),
        StatusAction(
            "cancel",
            S.CANCELLED_BY_CLINIC,
            _("Cancel (by the clinic)"),
            ngettext_lazy("%(count)d cancelled", "%(count)d cancelled", "count"),
            _("%(reference)s cancelled."),
            _("%(reference)s is already cancelled."),
            "decide",
            needs_reason=True,
        ),
        StatusAction(
            "complete",
            S.COMPLETED,
            _("Mark completed"),
            ngettext_lazy("%(count)d marked completed", "%(count)d marked completed", "count"),
            _("%(reference)s marked completed."),
            _("%(reference)s is already completed."),
            "outcome",
        ),
        StatusAction(
            "no_show",
            S.NO_SHOW,
            _("Mark no-show"),
            ngettext_lazy("%(count)d marked no-show", "%(count)d marked no-show", "count"),
            _("%(reference)s marked no-show."),
            _("%(reference)s is already no-show."),
            "outcome",
        ),
    ]
}


class StatusActionsMixin:
    """What staff do to appointments: confirm, decline, cancel, mark done or no-show, one or many,
    and export. Mixed into AppointmentAdmin."""

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

    def transition_one(self, request, appointment, action, note=""):
        """Apply one status change; a sentence saying why not, or None when it was done."""
        try:
            appointment_transition(appointment=appointment, to_status=action.to_status, by=request.user, note=note)
        except TransitionNotAllowed as refused:
            if refused.appointment.status == action.to_status:
                return action.already % {"reference": appointment.reference}
            return str(refused)
        except (SlotTaken, IntegrityError) as error:
            if isinstance(error, IntegrityError) and constraint_name(error) != NO_OVERLAP:
                raise
            return gettext("%(reference)s clashes with another appointment at that time.") % {
                "reference": appointment.reference
            }
        return None

    def transition_many(self, request, queryset, action, note=""):
        done, skipped = 0, []
        for appointment in queryset.order_by("starts_at", "pk"):
            problem = self.transition_one(request, appointment, action, note)
            if problem:
                skipped.append(problem)
            else:
                done += 1
        report = action.done % {"count": done}
        if skipped:
            report = ngettext(
                "%(done)s; %(count)d skipped: %(problems)s", "%(done)s; %(count)d skipped: %(problems)s", len(skipped)
            ) % {"done": report, "count": len(skipped), "problems": " ".join(skipped)}
        else:
            # Translators: the report of a status change none was skipped for, e.g. "3 confirmed".
            report = gettext("%(done)s.") % {"done": report}
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
            "title": ngettext("%(action)s: %(count)d appointment", "%(action)s: %(count)d appointments", count)
            % {"action": action.button, "count": count},
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

    @admin.action(permissions=["decide"], description=_("Confirm the selected requests"))
    def confirm(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["confirm"])

    @admin.action(permissions=["decide"], description=_("Decline the selected requests (with a reason)"))
    def decline(self, request, queryset):
        return self.transition_with_reason(request, queryset, STATUS_ACTIONS["decline"])

    @admin.action(
        permissions=["decide"], description=_("Cancel the selected appointments by the clinic (with a reason)")
    )
    def cancel(self, request, queryset):
        return self.transition_with_reason(request, queryset, STATUS_ACTIONS["cancel"])

    @admin.action(permissions=["outcome"], description=_("Mark the selected appointments completed"))
    def mark_completed(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["complete"])

    @admin.action(permissions=["outcome"], description=_("Mark the selected appointments as no-show"))
    def mark_no_show(self, request, queryset):
        self.transition_many(request, queryset, STATUS_ACTIONS["no_show"])

    @admin.action(permissions=["export"], description=_("Export the selected appointments to CSV"))
    def export_csv(self, request, queryset):
        return csv_response(queryset.select_related("treatment", "practitioner").order_by("starts_at", "pk"))

    def status_view(self, request, object_id, action_name):
        """One appointment's status change: POST applies it; GET (or a missing reason) shows the form."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        action = STATUS_ACTIONS.get(action_name)
        if action is None:
            raise Http404(gettext("No such status change."))
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
                self.message_user(request, gettext("Not changed: %(reason)s") % {"reason": problem}, messages.WARNING)
            else:
                self.message_user(request, action.done_one % {"reference": appointment.reference}, messages.SUCCESS)
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
            return HttpResponseBadRequest(
                gettext("Those filters could not be read. Go back to the list and try again.")
            )
        appointments = changelist.queryset.select_related("treatment", "practitioner").order_by("starts_at", "pk")
        return csv_response(appointments)
