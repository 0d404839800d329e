"""schema.org FAQPage data, built as a Python structure and serialised, never pasted text."""

import json

from django.utils.safestring import mark_safe

from faq.sanitize import answer_to_text

# Escape <, > and & so that no answer text can close the script element.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def faq_page_json_ld(questions):
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": question.question,
                "acceptedAnswer": {"@type": "Answer", "text": answer_to_text(question.answer)},
            }
            for question in questions
        ],
    }
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_SCRIPT_ESCAPES))  # noqa: S308 - escaped above
