"""Forms for reception's work in the admin: a reason the patient reads, and booking by phone."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.models import Practitioner, Treatment
from booking.requests.forms import ANY_PRACTITIONER, DetailsForm


class ReasonForm(forms.Form):
    """Why the clinic declines or cancels: the patient reads it in their email."""

    reason = forms.CharField(
        label=_("Reason (the patient reads this)"),
        max_length=1000,
        help_text=_(
            "Written to the patient in the email, e.g. 'The practitioner is away that day.' At most 1000 characters."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={
            "required": _("Write the reason: the patient reads it in the email."),
            "max_length": _("Keep the reason to 1000 characters or fewer."),
        },
    )


class PhoneBookingChoiceForm(forms.Form):
    """Step 1 of a phone booking: the treatment, who gives it, and from which day to show free times."""

    treatment = forms.ModelChoiceField(
        queryset=Treatment.objects.active(),
        label=_("Treatment"),
        empty_label=_("Choose a treatment"),
        error_messages={
            "required": _("Choose the treatment the patient wants."),
            "invalid_choice": _("Choose a treatment from the list."),
        },
    )
    practitioner = forms.ChoiceField(label=_("Practitioner"), required=False)
    start_day = forms.DateField(
        label=_("Free times from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for today."),
        error_messages={"invalid": _("Enter a date like 2026-05-31.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = [(ANY_PRACTITIONER, gettext("Anyone free"))] + [
            (str(p.pk), p.name) for p in Practitioner.objects.active()
        ]

    def clean(self):
        cleaned = super().clean()
        treatment, value = cleaned.get("treatment"), cleaned.get("practitioner") or ANY_PRACTITIONER
        cleaned["practitioner"] = None
        if treatment and value != ANY_PRACTITIONER:
            practitioner = Practitioner.objects.giving(treatment).filter(pk=int(value)).first()
            if practitioner is None:
                self.add_error(
                    "practitioner",
                    ValidationError(
                        gettext("That practitioner does not give %(treatment)s.") % {"treatment": treatment.name},
                        code="invalid_practitioner",
                    ),
                )
            cleaned["practitioner"] = practitioner
        return cleaned

    def practitioner_value(self):
        practitioner = self.cleaned_data.get("practitioner")
        return str(practitioner.pk) if practitioner else ANY_PRACTITIONER


class PhoneBookingForm(DetailsForm):
    """The patient's details as the public form takes them, and the time, under the same rules.

    On the phone the patient cannot tick the consent box: staff record that they told the
    patient about the privacy notice instead.
    """

    told_privacy = forms.BooleanField(
        error_messages={"required": _("Tick the box once you have told the patient about the privacy notice.")},
    )
    language = forms.ChoiceField(
        label=_("The patient's language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        help_text=_("Their emails, calendar files and own page are written in it, whatever the admin's language."),
    )
    # Made by the server for each form staff open; a second send of the same form books once.
    submission_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form could not be read. Please check the details and send it again."),
            "invalid": _("This form could not be read. Please check the details and send it again."),
        },
    )

    STAFF_WORDING = {
        "first_name": (_("First name"), _("Enter the patient's first name.")),
        "last_name": (_("Last name"), _("Enter the patient's last name.")),
        "email": (_("Email address"), _("Enter the patient's email address.")),
        "phone": (_("Phone number"), _("Enter the patient's phone number.")),
    }

    def time_check_now(self):
        # Staff on the phone book under their own rules (planning_rules): the form checks the time
        # under those, and says so in the staff's words.
        return True

    def __init__(self, *args, privacy_notice=None, **kwargs):
        super().__init__(*args, privacy_notice=privacy_notice, **kwargs)
        del self.fields["consent"]
        for name in ("website", "started"):  # the public form's bot checks; staff are signed in
            self.fields.pop(name, None)
        self.helper = None  # rendered in the admin's own look, not with crispy-forms
        for name, (label, required) in self.STAFF_WORDING.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = required
        self.fields["email"].help_text = gettext("The patient's emails (request received, confirmation) go here.")
        self.fields["phone"].help_text = gettext("As the patient says it: 020 7946 0000, 07700 900123 or +33 …")
        self.fields["message"].label = gettext("Note from the patient (optional)")
        self.fields["message"].help_text = gettext(
            "Anything the patient wants the clinic to know. At most 2000 characters."
        )
        self.fields["first_visit"].label = gettext("First visit to the clinic?")
        self.fields["first_visit"].choices = [
            ("yes", gettext("Yes, first visit")),
            ("no", gettext("No, has been before")),
        ]
        self.fields["first_visit"].error_messages["required"] = gettext(
            "Say whether this is the patient's first visit."
        )
        if privacy_notice:
            told = gettext(
                "I told the patient how the clinic keeps and uses their details, as its privacy notice (version "
                "%(version)s) explains, and they agreed."
            ) % {"version": privacy_notice.version}
        else:
            told = gettext(
                "I told the patient how the clinic keeps and uses their details, as its privacy notice explains, and "
                "they agreed."
            )
        self.fields["told_privacy"].label = told

    def patient(self):
        return {**super().patient(), "language": self.cleaned_data["language"]}

    def bot_reason(self):
        return None  # a signed-in member of staff, typing while on the phone, is no bot

    def submission_key_value(self):
        """The one-time key a re-shown form carries on: the posted one if valid, else the initial one."""
        if self.is_bound and hasattr(self, "cleaned_data") and self.cleaned_data.get("submission_key"):
            return self.cleaned_data["submission_key"]
        return self.initial.get("submission_key")
