from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _


class AuthenticatorCodeForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        help_text=_("The six-digit code the app shows for this site once you have added it."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_otp_token(self):
        token = "".join(self.cleaned_data["otp_token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError(_("Enter the six digits your authenticator app shows."), code="format")
        return token


class PasswordCheckForm(forms.Form):
    """Asks for the signed-in member's password again before their second factor changes."""

    ACTIONS = [("new_codes", _("Make new recovery codes")), ("remove", _("Remove my authenticator"))]

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self):
        user = self.request.user
        # Through the authentication backends, so django-axes counts a wrong password here too.
        checked = authenticate(self.request, username=user.get_username(), password=self.cleaned_data["password"])
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return ""
