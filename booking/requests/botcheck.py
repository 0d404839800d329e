"""Checks on the public forms that people never notice: a signed token per form shown (its own
random key and the time it was shown), a honeypot field and a minimum fill time.
"""

import dataclasses
import functools
import logging
import time
import uuid

from crispy_forms.layout import Div
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

STARTED_SALT = "booking.forms.started"


# Says neither what tripped nor how to avoid it; a person caught by mistake just sends again.
TRY_AGAIN_MESSAGE = gettext_noop(
    "Sorry, we could not accept the form this time. Please check your details and send it again."
)


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
        label=_("Leave this field empty"),
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
            self.add_error("started", ValidationError(gettext(TRY_AGAIN_MESSAGE), code="try_again"))
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
