import re

import pytest
from django import forms

from clinic.theme import DARK_BACKGROUND, accent_for_dark, accent_validate, contrast, theme_css

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["0b5c6b", "#0b5c6", "#0b5c6bb", "#gg0000", "red", ""])
def test_an_accent_that_is_not_a_hex_colour_is_refused(value):
    with pytest.raises(forms.ValidationError) as refused:
        accent_validate(value)
    assert refused.value.code == "invalid_colour"


@pytest.mark.parametrize("value", ["#ffcc00", "#6ea8fe", "#999999"])
def test_an_accent_too_light_for_white_text_is_refused(value):
    with pytest.raises(forms.ValidationError) as refused:
        accent_validate(value)
    assert refused.value.code == "low_contrast"


@pytest.mark.parametrize("value", ["#0b5c6b", "#7a1f5c", "#000000", "#1d4ed8"])
def test_a_dark_accent_is_accepted_and_gets_a_readable_dark_scheme_shade(value):
    accent_validate(value)
    assert contrast(accent_for_dark(value), DARK_BACKGROUND) >= 4.5


def test_the_theme_stylesheet_is_the_colour_in_custom_properties_kept_for_a_year(client):
    response = client.get("/theme/7a1f5c.css")
    assert response["Content-Type"].startswith("text/css")
    assert "immutable" in response["Cache-Control"]
    css = response.content.decode()
    assert "--clinic-accent:#7a1f5c;" in css
    assert re.search(r"prefers-color-scheme: dark\)\{:root\{--clinic-accent-text:#[0-9a-f]{6};", css)
    assert css == theme_css(accent="#7a1f5c")


def test_pages_load_the_stylesheet_of_the_clinics_colour_and_follow_a_change(admin_client, client):
    assert '<link rel="stylesheet" href="/theme/0b5c6b.css">' in client.get("/").content.decode()
    from clinic.models import ClinicDetails

    details = ClinicDetails.objects.get(pk=1)
    data = {
        field: getattr(details, field)
        for field in (
            "name",
            "address",
            "phone",
            "email",
            "opening_hours",
            "min_notice_hours",
            "booking_horizon_days",
            "slot_step_minutes",
            "self_service_cutoff_hours",
            "reminder_hours",
            "notification_email",
            "home_photo_alt",
            "directions_url",
        )
    }
    response = admin_client.post("/admin/clinic/clinicdetails/1/change/", {**data, "accent_colour": "#7A1F5C"})
    assert response.status_code == 302
    assert '<link rel="stylesheet" href="/theme/7a1f5c.css">' in client.get("/").content.decode()
