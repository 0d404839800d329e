"""The clinic's details patients read and its privacy notice, in every language of settings.LANGUAGES
(docs/i18n.md).

The name, address, phone and email are the same in every language; the opening hours and the
home photo's description are written for each. Each version of the privacy notice has its text in
each language: a change in either is published as a new version.
"""

from modeltranslation.translator import TranslationOptions, register

from clinic.models import ClinicDetails, PrivacyNotice


@register(ClinicDetails)
class ClinicDetailsTranslation(TranslationOptions):
    fields = ["opening_hours", "home_photo_alt"]


@register(PrivacyNotice)
class PrivacyNoticeTranslation(TranslationOptions):
    fields = ["body"]
