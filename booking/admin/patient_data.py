"""A patient's personal data on request: everything held under one email address, exported or erased."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from booking.privacy import patient_appointments, patient_erase, patient_export, patient_waitlist_entries

PATIENT_NOT_FOUND = _("Nothing is held under this email address (no appointment, no waitlist entry).")


class PatientDataForm(forms.Form):
    email = forms.EmailField(
        label=_("Patient's email address"), max_length=254, help_text=_("As the patient gave it when booking.")
    )
    action = forms.ChoiceField(choices=[("export", _("Export")), ("erase", _("Erase"))], widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


def erasure_done(erasure):
    """What an erasure did, in one message: a phrase for each count, so each is plural on its own."""
    appointments = ngettext("%(count)s appointment", "%(count)s appointments", erasure.appointments) % {
        "count": erasure.appointments
    }
    entries = ngettext("%(count)s waitlist entry", "%(count)s waitlist entries", erasure.waitlist_entries) % {
        "count": erasure.waitlist_entries
    }
    phrases = [
        gettext("Personal data erased from %(appointments)s and %(entries)s")
        % {"appointments": appointments, "entries": entries}
    ]
    if erasure.cancelled:
        phrases.append(
            ngettext("%(count)s future visit cancelled", "%(count)s future visits cancelled", erasure.cancelled)
            % {"count": erasure.cancelled}
        )
    if erasure.enquiries:
        phrases.append(
            ngettext(
                "%(count)s enquiry deleted with their answers",
                "%(count)s enquiries deleted with their answers",
                erasure.enquiries,
            )
            % {"count": erasure.enquiries}
        )
    # Translators: joins the phrases of an erasure's message (French: a narrow no-break space before ";").
    separator = gettext("; ")
    return gettext("%(phrases)s.") % {"phrases": separator.join(phrases)}


class PatientDataMixin:
    """The admin's "Patient data" page: export or erase everything held under one email address.
    Mixed into AppointmentAdmin."""

    def patient_data_view(self, request):
        """Export or erase everything held about one patient, found by email. Both are logged in the history."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not request.user.has_perm("booking.manage_patient_data"):
            raise PermissionDenied
        form = PatientDataForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Patient data: export or erase"),
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
            self.message_user(request, erasure_done(erasure), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:booking_appointment_patient_data"))
        context.update({"email": email, "appointments": appointments, "entries": entries, "now": timezone.now()})
        return TemplateResponse(request, "admin/booking/patient_data_erase.html", context)
