"""The clinic's details patients read, in every language of settings.LANGUAGES (docs/i18n.md).

The name, address, phone and email are the same in every language; the opening hours and the
home photo's description are written for each.
"""

from modeltranslation.translator import TranslationOptions, register

from clinic.models import ClinicDetails


@register(ClinicDetails)
class ClinicDetailsTranslation(TranslationOptions):
    fields = ["opening_hours", "home_photo_alt"]
