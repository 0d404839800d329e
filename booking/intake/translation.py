"""The health questions in every language of settings.LANGUAGES (docs/i18n.md).

The answers a patient may pick are written in English (``choices``, the canonical answers that are
stored and that ``talk_first_answers`` names) and, line for line, in French for patients who read
French: the French lines are labels only, so "talk to us first" is one list whatever the patient read.
"""

from modeltranslation.translator import TranslationOptions, register

from booking.intake.models import HealthQuestion


@register(HealthQuestion)
class HealthQuestionTranslation(TranslationOptions):
    fields = ["text", "help_text", "choices"]
