"""A picture of a number as it was read: each digit's box drawn over the image, the digit over its box.

Pure Pillow, no Streamlit: Try it shows the result, and a test can read the boxes back from its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SURE_COLOUR = (34, 160, 80)  # green: the model is sure of this digit
UNSURE_COLOUR = (230, 120, 0)  # orange: a guess (below inference.UNSURE_THRESHOLD)
DISPLAY_WIDTH = 720  # the picture is scaled to this width (up or down) so labels read the same on any input
LABEL_SHARE = 0.25  # a label is this share of the picture's height tall ...
LABEL_LIMITS = (16, 64)  # ... within these pixel sizes


@dataclass(frozen=True)
class Label:
    """One digit to mark: its box in the pixels of the image as given, and its text."""

    x: int
    y: int
    w: int
    h: int
    text: str
    unsure: bool


def boxed(image: Image.Image, labels: list[Label]) -> Image.Image:
    """An RGB copy of `image` scaled to DISPLAY_WIDTH, with each label's box and its text over the box.

    A strip of background is added on top so the labels of digits touching the top edge stay visible.
    """
    scale = DISPLAY_WIDTH / image.width
    height = max(1, round(image.height * scale))
    picture = image.convert("RGB").resize((DISPLAY_WIDTH, height), Image.Resampling.LANCZOS)
    size = int(min(max(LABEL_LIMITS[0], LABEL_SHARE * height), LABEL_LIMITS[1]))
    font = ImageFont.load_default(size=size)
    margin = size + 8
    canvas = Image.new("RGB", (DISPLAY_WIDTH, height + margin), (255, 255, 255))
    canvas.paste(picture, (0, margin))
    pen = ImageDraw.Draw(canvas)
    line = max(2, size // 8)
    for label in labels:
        colour = UNSURE_COLOUR if label.unsure else SURE_COLOUR
        left, top = round(label.x * scale), round(label.y * scale) + margin
        right, bottom = round((label.x + label.w) * scale), round((label.y + label.h) * scale) + margin
        pen.rectangle((left, top, right, bottom), outline=colour, width=line)
        text_box = pen.textbbox((0, 0), label.text, font=font)
        text_width, text_height = text_box[2] - text_box[0], text_box[3] - text_box[1]
        text_left = min(max(0, (left + right - text_width) // 2 - 3), DISPLAY_WIDTH - text_width - 6)
        text_top = max(0, top - text_height - 8)
        pen.rectangle((text_left, text_top, text_left + text_width + 6, text_top + text_height + 6), fill=colour)
        pen.text((text_left + 3 - text_box[0], text_top + 3 - text_box[1]), label.text, fill=(255, 255, 255), font=font)
    return canvas
