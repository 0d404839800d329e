"""Forms for the patient's booking path: the chosen time, then the patient's details."""

import logging
import unicodedata
from datetime import UTC, datetime

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment, Practitioner
from booking.requests.botcheck import BotCheckForm
from booking.schedule.availability import booking_window, practitioners_free_at

logger = logging.getLogger(__name__)


ANY_PRACTITIONER = "any"


PHONE_REGION = "GB"


# The times form sends starts as ISO 8601 in UTC, e.g. 2026-12-01T09:30:00Z.
START_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


TAKEN_MESSAGE = gettext_noop(
    "Sorry, that time was just taken by someone else. Please choose another time below; "
    "everything else you typed is kept."
)


# Hidden fields have no box of their own: their errors point at the time choice or the form.
TIME_ANCHOR = "time-choice"


FORM_ANCHOR = "details-form"


# Characters that show nothing: white space (Z*), controls (Cc) and format characters (Cf: zero-width
# spaces and joiners, direction marks, the BOM), and the few letters and symbols drawn as a blank
# (the Hangul fillers, the blank Braille pattern).
INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}


BLANK_CHARACTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


NAME_NO_LETTER = gettext_noop(
    "Enter a name with at least one letter: spaces and invisible characters alone do not count."
)


NAME_CONTROL = gettext_noop("Enter the name on one line, without tabs or line breaks.")


def is_invisible(char):
    return char in BLANK_CHARACTERS or unicodedata.category(char) in INVISIBLE_CATEGORIES


def name_clean(value):
    """A name without the invisible characters around it; refused when no letter is left to see.

    Inside the name everything stays: a zero-width joiner, for one, belongs in some scripts.
    """
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    name = value[start:end]
    if not any(unicodedata.category(char).startswith("L") and not is_invisible(char) for char in name):
        raise ValidationError(gettext(NAME_NO_LETTER), code="no_letter")
    if any(unicodedata.category(char) == "Cc" for char in name):
        # A line break or a control character would split the name in the admin and in emails.
        raise ValidationError(gettext(NAME_CONTROL), code="control")
    return name


def phone_clean(value):
    """The number in E.164, or a ValidationError a patient understands."""
    invalid = ValidationError(
        gettext("Enter a phone number we can call, like 020 7946 0000 or +44 20 7946 0000."), code="invalid_phone"
    )
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def start_format(start):
    return start.astimezone(UTC).strftime(START_FORMAT)


def start_parse(value):
    """An aware UTC datetime from the form's value, or None when it is not a full ISO 8601 time with a zone."""
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return None
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across a zone
        return None


def privacy_url():
    # The privacy page is its own piece of work; until its URL exists, its future address.
    try:
        return reverse("privacy")
    except NoReverseMatch:
        return "/privacy/"


class TimeChoiceForm(forms.Form):
    """A start time and a practitioner ("any" or an id) for one treatment, checked against the real free times."""

    start = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={"required": _("Choose a time.")},
    )
    practitioner = forms.CharField(widget=forms.HiddenInput, max_length=20, required=False)

    def __init__(self, *args, treatment, rules, now=None, ignore_appointment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.treatment = treatment
        self.rules = rules
        self.now = now or timezone.now()
        # Moving an appointment: its own current time does not count as busy.
        self.ignore_appointment = ignore_appointment

    def clean_start(self):
        start = start_parse(self.cleaned_data["start"])
        if start is None:
            raise ValidationError(
                gettext("We could not read the chosen time. Please choose a time."), code="invalid_start"
            )
        earliest, latest = booking_window(rules=self.rules, now=self.now)
        if start <= self.now:
            raise ValidationError(gettext("That time has already passed. Please choose a time to come."), code="past")
        if start < earliest:
            raise ValidationError(
                gettext("Appointments must be booked at least %(hours)s hours ahead. Please choose a later time.")
                % {"hours": self.rules.min_notice_hours},
                code="too_soon",
            )
        if start > latest:
            raise ValidationError(
                gettext("Appointments can be booked up to %(days)s days ahead. Please choose an earlier time.")
                % {"days": self.rules.booking_horizon_days},
                code="too_far",
            )
        return start

    def clean_practitioner(self):
        value = self.cleaned_data["practitioner"] or ANY_PRACTITIONER
        if value == ANY_PRACTITIONER:
            return None
        practitioner = None
        # ASCII only: "²" and "፩" are digits to str.isdigit() but not to int().
        if value.isascii() and value.isdigit():
            practitioner = Practitioner.objects.giving(self.treatment).filter(pk=int(value)).first()
        if practitioner is None:
            raise ValidationError(
                gettext("That practitioner does not give %(treatment)s. Please choose a time again.")
                % {"treatment": self.treatment.name},
                code="invalid_practitioner",
            )
        return practitioner

    def time_check_now(self):
        """Whether ``clean()`` checks the time against the free times (DetailsForm may leave it to the booking)."""
        return True

    def clean(self):
        cleaned = super().clean()
        if "start" in cleaned and "practitioner" in cleaned and self.time_check_now():
            start, practitioner = cleaned["start"], cleaned["practitioner"]
            free = practitioners_free_at(
                treatment=self.treatment,
                start=start,
                practitioner=practitioner,
                now=self.now,
                rules=self.rules,
                ignore_appointment=self.ignore_appointment,
            )
            if not free:
                self.add_error("start", self.not_free_error(start, practitioner))
        return cleaned

    def not_free_error(self, start, practitioner):
        """A time someone else now holds is "taken"; any other time was never on offer."""
        busy = Appointment.objects.active().overlapping(start, start + self.treatment.duration + self.treatment.buffer)
        if self.ignore_appointment is not None:
            busy = busy.exclude(pk=self.ignore_appointment.pk)
        if practitioner is not None:
            busy = busy.filter(practitioner=practitioner)
        else:
            busy = busy.filter(practitioner__in=Practitioner.objects.giving(self.treatment))
        if busy.exists():
            return ValidationError(gettext(TAKEN_MESSAGE), code="taken")
        return ValidationError(gettext("That time is not available. Please choose another time."), code="unavailable")

    @property
    def time_is_taken(self):
        return self.has_error("start", "taken")

    @property
    def needs_time(self):
        """The chosen time or practitioner cannot be used: the patient must pick a time again."""
        return self.is_bound and (self.has_error("start") or self.has_error("practitioner"))

    def practitioner_value(self):
        """What the hidden practitioner field should carry when the form is shown again."""
        if self.is_bound and not self.has_error("practitioner") and hasattr(self, "cleaned_data"):
            practitioner = self.cleaned_data.get("practitioner")
            return str(practitioner.pk) if practitioner else ANY_PRACTITIONER
        return self.initial.get("practitioner", ANY_PRACTITIONER)


class DetailsForm(BotCheckForm, TimeChoiceForm):
    """The patient's details and consent, with the chosen time carried in hidden fields."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": _("Enter your first name.")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": _("Enter your last name.")},
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We will send the clinic's confirmation here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        help_text=_("A UK number as you would dial it, or + and the country code for other countries."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("Enter your phone number.")},
    )
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=2000,
        help_text=_("Anything the clinic should know before your visit. At most 2000 characters."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    first_visit = forms.ChoiceField(
        label=_("Is this your first visit to the clinic?"),
        choices=[("yes", _("Yes, this is my first visit")), ("no", _("No, I have been before"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether this is your first visit.")},
    )
    consent = forms.BooleanField(
        error_messages={"required": _("Tick the box to agree to the privacy notice, so that we can book your visit.")},
    )

    def __init__(self, *args, privacy_notice=None, check_time=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_time = check_time
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
            "first_visit",
            "message",
            "consent",
        )

    def clean_first_name(self):
        return name_clean(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return name_clean(self.cleaned_data["last_name"])

    def clean_phone(self):
        return phone_clean(self.cleaned_data["phone"])

    def clean_first_visit(self):
        return self.cleaned_data["first_visit"] == "yes"

    def time_check_now(self):
        # A form about to book leaves the time to appointment_request, which checks it inside the
        # booking's transaction anyway (the database's exclusion constraint has the last word):
        # checked here as well, every booking would cost the same queries twice. A form that is
        # shown again for another reason, or that leads on to the health questions (``check_time``),
        # checks it now, so the patient learns everything at once.
        return self.check_time or bool(self._errors) or self.bot_reason() is not None

    def patient(self):
        """The patient's fields, as ``appointment_request`` takes them, with the language of the page."""
        data = self.cleaned_data
        names = ("first_name", "last_name", "email", "phone", "message", "first_visit")
        return {**{name: data[name] for name in names}, "language": get_language()}

    def error_summary(self):
        """[(anchor, message)] in page order, for the box at the top of the page."""
        links = []
        visible = [name for name, field in self.fields.items() if not field.widget.is_hidden]
        hidden = [name for name in ("submission_key", "started") if name in self.fields]
        for name in ["start", "practitioner", *visible, *hidden]:
            bound = self[name]
            if name in ("start", "practitioner"):
                anchor = TIME_ANCHOR
            elif name in hidden:
                anchor = FORM_ANCHOR
            elif isinstance(bound.field.widget, forms.RadioSelect):
                anchor = f"{bound.auto_id}_0"
            else:
                anchor = bound.id_for_label
            links += [(anchor, error) for error in bound.errors]
        links += [(None, error) for error in self.non_field_errors()]
        return links
