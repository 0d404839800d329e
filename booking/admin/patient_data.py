"""A patient's personal data on request: everything held under one email address, exported or erased."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from booking.privacy import patient_appointments, patient_erase, patient_export, patient_waitlist_entries

PATIENT_NOT_FOUND = "Nothing is held under this email address (no appointment, no waitlist entry)."


class PatientDataForm(forms.Form):
    email = forms.EmailField(
        label="Patient's email address", max_length=254, help_text="As the patient gave it when booking."
    )
    action = forms.ChoiceField(choices=[("export", "Export"), ("erase", "Erase")], widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


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
            if erasure.enquiries:
                enquiries = f"{erasure.enquiries} enquir{pluralize(erasure.enquiries, 'y,ies')}"
                done += f"; {enquiries} deleted with their answers"
            self.message_user(request, f"{done}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:booking_appointment_patient_data"))
        context.update({"email": email, "appointments": appointments, "entries": entries, "now": timezone.now()})
        return TemplateResponse(request, "admin/booking/patient_data_erase.html", context)
