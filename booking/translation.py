"""The treatments' texts and the practitioners' bios in every language of settings.LANGUAGES
(django-modeltranslation, docs/i18n.md). Names of people, durations and addresses are one for all."""

from modeltranslation.translator import TranslationOptions, register

from booking.models import Practitioner, Treatment


@register(Treatment)
class TreatmentTranslation(TranslationOptions):
    fields = ["name", "summary", "description", "before_visit", "aftercare", "image_alt"]


@register(Practitioner)
class PractitionerTranslation(TranslationOptions):
    fields = ["bio", "image_alt"]
