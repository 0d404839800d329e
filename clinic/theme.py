"""The clinic's accent colour: checked for contrast, and turned into the small stylesheet every page loads.

Served by a view (clinic.views.theme_css) at an address that names the colour, so a browser keeps it
for a year and a new colour is a new address; no inline style is needed (strict CSP).
"""

import re

from django import forms
from django.utils.translation import gettext as _

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = "#0b5c6b"
# White text on the accent (buttons) and the accent on the light page both need 4.5:1 (WCAG 1.4.3),
# the page's lightest grey panel (the footer, static/css/site.css) included.
LIGHT_BACKGROUND = "#f8f9fa"
# The dark scheme's lightest panel (Bootstrap's dark --bs-secondary-bg); links there use a lighter accent.
DARK_BACKGROUND = "#343a40"
DARK_PAGE = "#212529"
MIN_CONTRAST = 4.5


def channels(colour):
    return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))


def hex_of(rgb):
    return "#" + "".join(f"{round(max(0, min(255, value))):02x}" for value in rgb)


def luminance(colour):
    def linear(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(value) for value in channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first, second):
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix(colour, other, amount):
    """``colour`` moved ``amount`` (0 to 1) of the way towards ``other``."""
    return hex_of(a + (b - a) * amount for a, b in zip(channels(colour), channels(other), strict=True))


def accent_validate(value):
    """A hex colour like #0b5c6b, dark enough for white button text and links on the white page."""
    if not HEX_COLOUR.match(value or ""):
        raise forms.ValidationError(
            _("Enter the colour as # and six hexadecimal digits, for example #0b5c6b."), code="invalid_colour"
        )
    ratio = min(contrast(value, LIGHT_BACKGROUND), contrast(value, "#ffffff"))
    if ratio < MIN_CONTRAST:
        raise forms.ValidationError(
            _(
                "This colour is too light to read on white (contrast %(ratio).1f:1, at least 4.5:1 is needed). "
                "Choose a darker shade."
            )
            % {"ratio": ratio},
            code="low_contrast",
        )


def accent_for_dark(accent):
    """The accent lightened until it reads on the dark scheme's background."""
    for step in range(21):
        candidate = mix(accent, "#ffffff", step / 20)
        if contrast(candidate, DARK_BACKGROUND) >= MIN_CONTRAST + 0.2:
            return candidate
    return "#ffffff"


def theme_css(*, accent):
    accent = accent.lower() if HEX_COLOUR.match(accent or "") else DEFAULT_ACCENT
    return (
        f":root{{--clinic-accent:{accent};--clinic-accent-strong:{mix(accent, '#000000', 0.2)};"
        f"--clinic-accent-text:{accent};--clinic-accent-soft:{mix(accent, '#ffffff', 0.88)}}}\n"
        "@media (prefers-color-scheme: dark){"
        f":root{{--clinic-accent-text:{accent_for_dark(accent)};"
        f"--clinic-accent-soft:{mix(accent, DARK_PAGE, 0.7)}}}}}\n"
    )
