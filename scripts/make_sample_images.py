"""Draws the flow templates' sample images (run once; the results are committed).

.venv/bin/python scripts/make_sample_images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parents[1] / "src" / "plait" / "flows" / "templates" / "images"


def sneaker() -> Image.Image:
    img = Image.new("RGB", (800, 800), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse((140, 610, 680, 660), fill=(225, 225, 225))
    draw.rounded_rectangle((150, 470, 670, 610), radius=60, fill=(200, 30, 40))
    draw.rounded_rectangle((180, 330, 470, 520), radius=80, fill=(215, 40, 50))
    draw.rectangle((150, 580, 670, 620), fill=(245, 245, 245))
    for x in range(250, 440, 45):
        draw.line((x, 380, x + 30, 440), fill="white", width=8)
    return img


def beach() -> Image.Image:
    img = Image.new("RGB", (1024, 768), (120, 190, 235))
    draw = ImageDraw.Draw(img)
    for y in range(768):
        t = y / 768
        draw.line((0, y, 1024, y), fill=(int(120 + 100 * t), int(190 + 40 * t), int(235 - 30 * t)))
    draw.ellipse((760, 80, 900, 220), fill=(255, 220, 120))
    draw.rectangle((0, 470, 1024, 560), fill=(40, 120, 180))
    draw.rectangle((0, 560, 1024, 768), fill=(235, 215, 170))
    return img


def main() -> None:
    sneaker().save(HERE / "sneaker.jpg", quality=88)
    beach().save(HERE / "beach.jpg", quality=85)


if __name__ == "__main__":
    main()
