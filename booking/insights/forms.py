from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

LONGEST_PERIOD_DAYS = 3 * 366
DOWNLOADS = {"weeks", "outcomes", "weekdays", "hours", "treatments", "practitioners"}


class PeriodForm(forms.Form):
    # A date field's value is always ISO (YYYY-MM-DD), whatever the locale's way of writing dates.
    first_day = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last_day = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    download = forms.ChoiceField(
        required=False, choices=[("", "")] + [(name, name) for name in sorted(DOWNLOADS)], widget=forms.HiddenInput
    )

    @staticmethod
    def default_period():
        today = timezone.localdate()
        return {"first_day": today - timedelta(weeks=12) + timedelta(days=1), "last_day": today}

    def clean(self):
        cleaned = super().clean()
        first_day, last_day = cleaned.get("first_day"), cleaned.get("last_day")
        if first_day and last_day:
            if last_day < first_day:
                raise ValidationError(gettext("The last day must be on or after the first day."), code="order")
            if (last_day - first_day).days > LONGEST_PERIOD_DAYS:
                raise ValidationError(gettext("Choose a period of at most three years."), code="too_long")
        return cleaned
