"""What the French tests look for: the English texts of a catalog, as pieces a page or an email would show."""

import re
import subprocess
from pathlib import Path

from django.conf import settings

PROJECT_CATALOG = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
BOOKING_CATALOG = Path(settings.BASE_DIR) / "booking" / "locale" / "fr" / "LC_MESSAGES" / "django.po"

ENTRY_FIELD = re.compile(r'^(msgid|msgid_plural) "(.*)"$')


def catalog_english(catalog):
    """Every English text of the catalog, both forms of a plural, continuation lines joined."""
    flat = subprocess.run(["msgcat", "--no-wrap", str(catalog)], capture_output=True, text=True, check=True).stdout
    texts = []
    current = None
    for line in flat.splitlines():
        field = ENTRY_FIELD.match(line)
        if field:
            current = field.group(2)
            texts.append(current)
        elif line.startswith('"') and current is not None:
            texts[-1] += line[1:-1]
        else:
            current = None
    return [text.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\") for text in texts if text]


CATALOG_ENTRY = re.compile(
    r'^(?:msgctxt "(.*)"\n)?msgid "(.*)"\n(msgid_plural ".*"\n)?((?:msgstr(?:\[\d\])? ".*"(?:\n|$))+)', re.M
)


def catalog_entries(path):
    """A catalog's messages but its header, continuation lines joined: (context, English as the code
    writes it, whether it has a plural, its French texts as written in the catalog)."""
    flat = subprocess.run(["msgcat", "--no-wrap", str(path)], capture_output=True, text=True, check=True).stdout
    for context, english, plural, texts in CATALOG_ENTRY.findall(flat):
        if english:
            english = english.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            yield context, english, bool(plural), tuple(re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', texts, re.M))


def catalog_pieces(*catalogs):
    """The English of the catalogs, each text cut at its placeholders, tags and line breaks into the
    pieces a reader would see."""
    pieces = set()
    for catalog in catalogs:
        for text in catalog_english(catalog):
            for piece in re.split(r"%\(\w+\)[sd]|<[^>]+>|\n", text):
                piece = piece.strip(" .,:;()")
                # Single words ("Time", "Practitioner") are shared with the site's other catalogs and could
                # be a name: sentences only.
                if " " in piece and len(piece) >= 12:
                    pieces.add(piece)
    return pieces


def english_left(text, *, catalogs, content=()):
    """The catalogs' English pieces found in ``text``; ``content`` are the ones the clinic's own (English)
    content may say as well."""
    return sorted(piece for piece in catalog_pieces(*catalogs) - set(content) if piece in text)
