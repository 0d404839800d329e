"""Draws static/img/share.png, the link-preview picture used until staff upload a home page photo.

Run again after changing the default accent colour: .venv/bin/python scripts/make_share_image.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (11, 92, 107)
SOFT = (224, 238, 240)
WHITE = (255, 255, 255)
SCALE = 2  # drawn at twice the size, then reduced, for smooth edges


def main():
    width, height = 1200 * SCALE, 630 * SCALE
    image = Image.new("RGB", (width, height), SOFT)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width * 0.42, height), fill=ACCENT)
    centre_x, centre_y, radius = width * 0.21, height / 2, 190 * SCALE
    draw.ellipse(
        (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius), outline=WHITE, width=14 * SCALE
    )
    # The drop of the logo: a circle with a triangle rising from it.
    drop = 100 * SCALE
    draw.ellipse((centre_x - drop, centre_y - drop * 0.35, centre_x + drop, centre_y + drop * 1.65), fill=WHITE)
    draw.polygon(
        [
            (centre_x, centre_y - drop * 1.55),
            (centre_x - drop * 0.93, centre_y + drop * 0.35),
            (centre_x + drop * 0.93, centre_y + drop * 0.35),
        ],
        fill=WHITE,
    )
    # The treatment room of the home page drawing: a window, a couch and a plant.
    left = width * 0.5
    draw.rounded_rectangle((left, 110 * SCALE, left + 300 * SCALE, 330 * SCALE), 16 * SCALE, fill=WHITE)
    draw.line((left + 150 * SCALE, 110 * SCALE, left + 150 * SCALE, 330 * SCALE), fill=ACCENT, width=6 * SCALE)
    draw.line((left, 220 * SCALE, left + 300 * SCALE, 220 * SCALE), fill=ACCENT, width=6 * SCALE)
    draw.rounded_rectangle((left + 80 * SCALE, 400 * SCALE, left + 560 * SCALE, 500 * SCALE), 30 * SCALE, fill=ACCENT)
    draw.rounded_rectangle((left + 60 * SCALE, 470 * SCALE, left + 580 * SCALE, 530 * SCALE), 20 * SCALE, fill=WHITE)
    draw.line((left - 40 * SCALE, 560 * SCALE, width - 60 * SCALE, 560 * SCALE), fill=ACCENT, width=6 * SCALE)
    image = image.resize((1200, 630), Image.Resampling.LANCZOS)
    target = Path(__file__).resolve().parent.parent / "static" / "img" / "share.png"
    image.save(target, optimize=True)
    print(target, target.stat().st_size)


if __name__ == "__main__":
    main()
