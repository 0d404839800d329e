"""Bar charts drawn on the server as SVG: bars, labels and a title and description for screen readers."""

from dataclasses import dataclass

from django.utils.translation import gettext

WIDTH = 640
BAR_AREA = 180
TOP = 20
LABEL_SPACE = 40
LEFT = 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    show_label: bool


def bar_chart(*, slug, title, rows):
    """The geometry of a bar chart of ``rows`` (label, value): the template draws it."""
    rows = list(rows)
    peak = max((value for _label, value in rows), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(rows), 1)
    # Every label when there is room, else every nth, so labels never overlap.
    step = max(1, round(len(rows) / 12))
    bars = []
    for index, (label, value) in enumerate(rows):
        height = BAR_AREA * value / peak
        x = LEFT + index * slot + slot * 0.1
        bars.append(
            Bar(
                label=str(label),
                value=value,
                x=round(x, 1),
                y=round(TOP + BAR_AREA - height, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
                label_x=round(x + slot * 0.4, 1),
                show_label=index % step == 0,
            )
        )
    if bars:
        values = ", ".join(gettext("%(label)s: %(value)s") % {"label": bar.label, "value": bar.value} for bar in bars)
        description = gettext("Bar chart. %(values)s.") % {"values": values}
    else:
        description = gettext("No figures for this period.")
    return {
        "slug": slug,
        "title": title,
        "description": description,
        "bars": bars,
        "peak": peak,
        "width": WIDTH,
        "height": TOP + BAR_AREA + LABEL_SPACE,
        "baseline": TOP + BAR_AREA,
        "label_y": TOP + BAR_AREA + 16,
        "left": LEFT,
    }
