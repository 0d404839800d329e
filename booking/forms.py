"""Forms for the patient's booking path: the chosen time, then the patient's details."""

import dataclasses
import functools
import logging
import time
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from booking.availability import booking_window, first_day_today, practitioners_free_at
from booking.models import Appointment, Practitioner

logger = logging.getLogger(__name__)

ANY_PRACTITIONER = "any"
PHONE_REGION = "GB"
# The times form sends starts as ISO 8601 in UTC, e.g. 2026-12-01T09:30:00Z.
START_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

TAKEN_MESSAGE = (
    "Sorry, that time was just taken by someone else. Please choose another time below; "
    "everything else you typed is kept."
)
# Hidden fields have no box of their own: their errors point at the time choice or the form.
TIME_ANCHOR = "time-choice"
FORM_ANCHOR = "details-form"
WAITLIST_FORM_ANCHOR = "waitlist-form"

STARTED_SALT = "booking.forms.started"
# Says neither what tripped nor how to avoid it; a person caught by mistake just sends again.
TRY_AGAIN_MESSAGE = "Sorry, we could not accept the form this time. Please check your details and send it again."


# Characters that show nothing: white space (Z*), controls (Cc) and format characters (Cf: zero-width
# spaces and joiners, direction marks, the BOM), and the few letters and symbols drawn as a blank
# (the Hangul fillers, the blank Braille pattern).
INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
BLANK_CHARACTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
NAME_NO_LETTER = "Enter a name with at least one letter: spaces and invisible characters alone do not count."
NAME_CONTROL = "Enter the name on one line, without tabs or line breaks."


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
        raise ValidationError(NAME_NO_LETTER, code="no_letter")
    if any(unicodedata.category(char) == "Cc" for char in name):
        # A line break or a control character would split the name in the admin and in emails.
        raise ValidationError(NAME_CONTROL, code="control")
    return name


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


def form_token(*, at=None, nonce=None):
    """The "started" value of a public form: when it was shown and a random key of its own, signed.

    The site makes every key here (never from anything a client sent), so a key found in a POST
    only ever names a submission that the browser holding this very form made. After
    ``CLINIC_FORM_MAX_AGE_HOURS`` from the time it was shown, the form must be shown again.
    """
    payload = {"t": round(time.time() if at is None else at, 3), "k": (nonce or uuid.uuid4()).hex}
    return signing.dumps(payload, salt=STARTED_SALT, compress=False)


@dataclasses.dataclass(frozen=True)
class FormToken:
    shown_at: float  # seconds since the epoch
    key: uuid.UUID


def form_token_read(value):
    """The FormToken a "started" value carries; None when it is missing, not signed by this site, or too old."""
    try:
        payload = signing.loads(str(value), salt=STARTED_SALT)
        token = FormToken(shown_at=float(payload["t"]), key=uuid.UUID(hex=payload["k"]))
    except (signing.BadSignature, TypeError, KeyError, ValueError):
        return None
    if time.time() - token.shown_at > settings.CLINIC_FORM_MAX_AGE_HOURS * 3600:
        return None
    return token


class WebsiteInput(forms.TextInput):
    """A text box people never see; whatever a bot typed into it is never shown back."""

    def format_value(self, value):
        return None


class StartedInput(forms.HiddenInput):
    """The form's signed token. A form shown again carries its token on, so the clock never restarts
    and a double click still names one submission; a missing, forged or expired one is replaced."""

    def format_value(self, value):
        return value if form_token_read(value) is not None else form_token()


class BotCheckForm(forms.Form):
    """A honeypot field and a minimum fill time (``CLINIC_FORM_MIN_SECONDS``), both invisible to people.

    A tripped check is a form error like any other, so nothing is stored, and its message names
    neither check. A person caught by mistake (a browser filling every box, a very fast send)
    keeps what they typed and only needs to send again.
    """

    # Named like a field bots love to fill; hidden from sight, from screen readers and from the Tab key.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        strip=False,
        widget=WebsiteInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=StartedInput)

    def clean(self):
        cleaned = super().clean()
        reason = self.bot_reason()
        if reason is not None:
            logger.info("%s refused as automated: %s", type(self).__name__, reason)
            self.add_error("started", ValidationError(TRY_AGAIN_MESSAGE, code="try_again"))
        return cleaned

    def bot_reason(self):
        if self.data.get(self.add_prefix("website")):
            return "honeypot filled"
        # Read even with no minimum time: the token names the submission (see token_key).
        token = self.form_token
        if token is None:
            return "no valid form token"
        minimum = settings.CLINIC_FORM_MIN_SECONDS
        if minimum > 0 and time.time() - token.shown_at < minimum:
            return "sent too fast"
        return None

    @functools.cached_property
    def form_token(self):
        return form_token_read(self.data.get(self.add_prefix("started")))

    @property
    def token_key(self):
        """The key this form's submission is stored under, so that sending it twice acts once; None if unsigned."""
        return self.form_token.key if self.form_token is not None else None

    def bot_fields(self):
        """The two fields for a crispy layout: the honeypot in a wrapper hidden from sight and from screen readers."""
        return Div("website", css_class="form-extra", aria_hidden="true"), "started"


class TimeChoiceForm(forms.Form):
    """A start time and a practitioner ("any" or an id) for one treatment, checked against the real free times."""

    start = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={"required": "Choose a time."},
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
            raise ValidationError("We could not read the chosen time. Please choose a time.", code="invalid_start")
        earliest, latest = booking_window(rules=self.rules, now=self.now)
        if start <= self.now:
            raise ValidationError("That time has already passed. Please choose a time to come.", code="past")
        if start < earliest:
            raise ValidationError(
                f"Appointments must be booked at least {self.rules.min_notice_hours} hours ahead. "
                "Please choose a later time.",
                code="too_soon",
            )
        if start > latest:
            raise ValidationError(
                f"Appointments can be booked up to {self.rules.booking_horizon_days} days ahead. "
                "Please choose an earlier time.",
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
                f"That practitioner does not give {self.treatment.name}. Please choose a time again.",
                code="invalid_practitioner",
            )
        return practitioner

    def clean(self):
        cleaned = super().clean()
        if "start" in cleaned and "practitioner" in cleaned:
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
            return ValidationError(TAKEN_MESSAGE, code="taken")
        return ValidationError("That time is not available. Please choose another time.", code="unavailable")

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


class MoveForm(TimeChoiceForm):
    """A new time for a patient's own appointment, under the same rules as booking it."""

    def __init__(self, *args, appointment, **kwargs):
        super().__init__(*args, treatment=appointment.treatment, ignore_appointment=appointment, **kwargs)
        self.appointment = appointment

    def clean_start(self):
        start = super().clean_start()
        if start == self.appointment.starts_at:
            raise ValidationError(
                "That is already the time of your appointment. Please choose a different time.", code="same_time"
            )
        return start


class DetailsForm(BotCheckForm, TimeChoiceForm):
    """The patient's details and consent, with the chosen time carried in hidden fields."""

    first_name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Enter your first name."},
    )
    last_name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": "Enter your last name."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send the clinic's confirmation here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=30,
        help_text="A UK number as you would dial it, or + and the country code for other countries.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        error_messages={"required": "Enter your phone number."},
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=2000,
        help_text="Anything the clinic should know before your visit. At most 2000 characters.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    first_visit = forms.ChoiceField(
        label="Is this your first visit to the clinic?",
        choices=[("yes", "Yes, this is my first visit"), ("no", "No, I have been before")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether this is your first visit."},
    )
    consent = forms.BooleanField(
        error_messages={"required": "Tick the box to agree to the privacy notice, so that we can book your visit."},
    )

    def __init__(self, *args, privacy_notice=None, **kwargs):
        super().__init__(*args, **kwargs)
        version = f" (version {privacy_notice.version})" if privacy_notice else ""
        self.fields["consent"].label = format_html(
            'I agree to the clinic keeping and using my details as its <a href="{}" target="_blank" rel="noopener">'
            "privacy notice</a>{} explains (the notice opens in a new tab).",
            privacy_url(),
            version,
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            Fieldset("About you", "first_name", "last_name", "email", "phone"),
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
        value = self.cleaned_data["phone"]
        invalid = ValidationError(
            "Enter a phone number we can call, like 020 7946 0000 or +44 20 7946 0000.", code="invalid_phone"
        )
        try:
            number = phonenumbers.parse(value, PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise invalid from None
        if not phonenumbers.is_valid_number(number):
            raise invalid
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean_first_visit(self):
        return self.cleaned_data["first_visit"] == "yes"

    def patient(self):
        """The patient's fields, as ``appointment_request`` takes them."""
        data = self.cleaned_data
        return {name: data[name] for name in ("first_name", "last_name", "email", "phone", "message", "first_visit")}

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


class WaitlistForm(BotCheckForm):
    """A patient's details and the days they could come, to be told when a time frees up."""

    # The same fields and checks as the booking form, so both ask and answer alike.
    first_name = DetailsForm.base_fields["first_name"]
    last_name = DetailsForm.base_fields["last_name"]
    email = DetailsForm.base_fields["email"]
    phone = DetailsForm.base_fields["phone"]
    date_from = forms.DateField(
        label="First day you could come",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Enter the first day you could come.", "invalid": "Enter a date like 2026-05-31."},
    )
    date_to = forms.DateField(
        label="Last day you could come",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Enter the last day you could come.", "invalid": "Enter a date like 2026-05-31."},
    )
    consent = forms.BooleanField(
        error_messages={
            "required": "Tick the box to agree to the privacy notice, so that we can tell you when a time is free."
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
        self.fields["email"].help_text = "We email you here when a time becomes free."
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs.update(min=self.today.isoformat(), max=self.last_day.isoformat())
        version = f" (version {privacy_notice.version})" if privacy_notice else ""
        self.fields["consent"].label = format_html(
            'I agree to the clinic keeping and using my details as its <a href="{}" target="_blank" rel="noopener">'
            "privacy notice</a>{} explains (the notice opens in a new tab).",
            privacy_url(),
            version,
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            Fieldset("About you", "first_name", "last_name", "email", "phone"),
            *self.bot_fields(),
            Fieldset("When you could come", "date_from", "date_to"),
            "consent",
        )

    def clean_date_from(self):
        day = self.cleaned_data["date_from"]
        if day < self.today:
            raise ValidationError("The first day cannot be in the past. Enter today or a later day.", code="past")
        return self.date_within_horizon(day)

    def clean_date_to(self):
        return self.date_within_horizon(self.cleaned_data["date_to"])

    def date_within_horizon(self, day):
        if day > self.last_day:
            raise ValidationError(
                f"Appointments can be booked up to {self.rules.booking_horizon_days} days ahead, so choose a day "
                f"on or before {self.last_day:%-d %B %Y}.",
                code="too_far",
            )
        return day

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error(
                "date_to", ValidationError("The last day must be on or after the first day.", code="dates_reversed")
            )
        return cleaned

    def patient(self):
        """The patient's fields, as ``waitlist_join`` takes them."""
        return {name: self.cleaned_data[name] for name in ("first_name", "last_name", "email", "phone")}

    def error_summary(self):
        """[(anchor, message)] in page order, for the box at the top of the page."""
        links = []
        for name in self.fields:
            anchor = WAITLIST_FORM_ANCHOR if name == "started" else self[name].id_for_label
            links += [(anchor, error) for error in self[name].errors]
        return links + [(None, error) for error in self.non_field_errors()]
