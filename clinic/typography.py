"""French typography for the clinic's French starting texts, written with plain spaces and straight
apostrophes in the source."""

import re

NBSP = "\u00a0"  # before a colon, inside « »
NARROW_NBSP = "\u202f"  # before ; ? !


def french_typography(text):
    """``text`` with typographic apostrophes, and the spaces French puts before : ; ? ! and inside « »
    made non-breaking, so that a line never starts with the punctuation."""
    text = text.replace("'", "\u2019")
    text = re.sub(r" +([;?!])", NARROW_NBSP + r"\1", text)
    text = re.sub(r" +:", NBSP + ":", text)
    text = re.sub(r"« +", "«" + NBSP, text)
    return re.sub(r" +»", NBSP + "»", text)
