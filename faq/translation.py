"""The FAQ's texts in every language of settings.LANGUAGES (django-modeltranslation, docs/i18n.md)."""

from modeltranslation.translator import TranslationOptions, register

from faq.models import Category, Question


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ["name", "description", "image_alt"]


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ["question", "answer", "image_alt"]
