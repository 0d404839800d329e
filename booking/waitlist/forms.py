"""The form to join the waitlist for a treatment."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from booking.requests.botcheck import BotCheckForm
from booking.requests.forms import DetailsForm, privacy_url
from booking.schedule.availability import first_day_today

WAITLIST_FORM_ANCHOR = "waitlist-form"


class WaitlistForm(BotCheckForm):
    """A patient's details and the days they could come, to be told when a time frees up."""

    # The same fields and checks as the booking form, so both ask and answer alike.
    first_name = DetailsForm.base_fields["first_name"]
    last_name = DetailsForm.base_fields["last_name"]
    email = DetailsForm.base_fields["email"]
    phone = DetailsForm.base_fields["phone"]
    date_from = forms.DateField(
        label=_("First day you could come"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the first day you could come."),
            "invalid": _("Enter a date like 2026-05-31."),
        },
    )
    date_to = forms.DateField(
        label=_("Last day you could come"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the last day you could come."),
            "invalid": _("Enter a date like 2026-05-31."),
        },
    )
    consent = forms.BooleanField(
        error_messages={
            "required": _("Tick the box to agree to the privacy notice, so that we can tell you when a time is free.")
        },
    )

    clean_first_name = DetailsForm.clean_first_name
    clean_last_name = DetailsForm.clean_last_name
    clean_phone = DetailsForm.clean_phone

    def __init__(self, *args, rules, privacy_notice=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.today = today or first_day_today()
        self.last_day = self.today + timedelta(days=rules.booking_horizon_days)
        self.fields["email"].help_text = gettext("We email you here when a time becomes free.")
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs.update(min=self.today.isoformat(), max=self.last_day.isoformat())
        version = gettext(" (version %(version)s)") % {"version": privacy_notice.version} if privacy_notice else ""
        self.fields["consent"].label = format_html(
            gettext(
                'I agree to the clinic keeping and using my details as its <a href="{}" target="_blank" '
                'rel="noopener">privacy notice</a>{} explains (the notice opens in a new tab).'
            ),
            privacy_url(),
            version,
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            Fieldset(gettext("About you"), "first_name", "last_name", "email", "phone"),
            *self.bot_fields(),
            Fieldset(gettext("When you could come"), "date_from", "date_to"),
            "consent",
        )

    def clean_date_from(self):
        day = self.cleaned_data["date_from"]
        if day < self.today:
            raise ValidationError(
                gettext("The first day cannot be in the past. Enter today or a later day."), code="past"
            )
        return self.date_within_horizon(day)

    def clean_date_to(self):
        return self.date_within_horizon(self.cleaned_data["date_to"])

    def date_within_horizon(self, day):
        if day > self.last_day:
            raise ValidationError(
                gettext(
                    "Appointments can be booked up to %(days)s days ahead, so choose a day on or before %(last_day)s."
                )
                % {"days": self.rules.booking_horizon_days, "last_day": date_format(self.last_day, "j F Y")},
                code="too_far",
            )
        return day

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error(
                "date_to",
                ValidationError(gettext("The last day must be on or after the first day."), code="dates_reversed"),
            )
        return cleaned

    def patient(self):
        """The patient's fields, as ``waitlist_join`` takes them, with the language of the page."""
        names = ("first_name", "last_name", "email", "phone")
        return {**{name: self.cleaned_data[name] for name in names}, "language": get_language()}

    def error_summary(self):
        """[(anchor, message)] in page order, for the box at the top of the page."""
        links = []
        for name in self.fields:
            anchor = WAITLIST_FORM_ANCHOR if name == "started" else self[name].id_for_label
            links += [(anchor, error) for error in self[name].errors]
        return links + [(None, error) for error in self.non_field_errors()]
