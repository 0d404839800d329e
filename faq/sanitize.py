"""Staff-written answers become safe HTML: a small allow-list, nothing that can run."""

import re
from html import unescape

import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "a", "strong", "em", "b", "i"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_BLOCK = re.compile(r"<\s*(p|ul|ol)\b", re.IGNORECASE)


def answer_to_html(text):
    cleaned = nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    if not _BLOCK.search(cleaned):
        # Plain text: blank lines separate paragraphs. nh3's output is already escaped HTML.
        paragraphs = [part.strip() for part in re.split(r"\n\s*\n", cleaned) if part.strip()]
        cleaned = "".join(f"<p>{part}</p>" for part in paragraphs)
    return mark_safe(cleaned)  # noqa: S308 - nh3 output with an allow-list; the wrapping adds only <p>


def answer_to_text(text):
    """The answer as plain text, for structured data and meta descriptions."""
    plain = nh3.clean(text, tags=set())
    # nh3 leaves entities escaped; JSON-LD and meta tags want the characters.
    return re.sub(r"\s+", " ", unescape(plain)).strip()
