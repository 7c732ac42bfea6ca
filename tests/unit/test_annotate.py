"""The picture of a number as read: each box drawn where the digit is, its label over it, colour by sureness."""

import numpy as np
from PIL import Image

from digitcore.reading import annotate


def _colour_share(picture: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int]) -> float:
    """The share of pixels of exactly `colour` inside `box` (left, top, right, bottom) of `picture`."""
    pixels = np.asarray(picture.crop(box))
    return float(np.all(pixels == colour, axis=-1).mean())


def test_each_box_is_drawn_around_its_digit_in_the_colour_of_its_sureness():
    image = Image.new("L", (400, 200), 0)  # a drawing's black pad
    labels = [
        annotate.Label(40, 50, 60, 100, "4", unsure=False),
        annotate.Label(250, 50, 60, 100, "7", unsure=True),
    ]
    picture = annotate.boxed(image, labels)
    scale = annotate.DISPLAY_WIDTH / image.width
    margin = picture.height - round(image.height * scale)  # the strip added on top for the labels
    assert picture.width == annotate.DISPLAY_WIDTH and margin > 0
    for label, colour, other in (
        (labels[0], annotate.SURE_COLOUR, annotate.UNSURE_COLOUR),
        (labels[1], annotate.UNSURE_COLOUR, annotate.SURE_COLOUR),
    ):
        left, top = round(label.x * scale), round(label.y * scale) + margin
        right, bottom = round((label.x + label.w) * scale), round((label.y + label.h) * scale) + margin
        edge = (left, top, left + 3, bottom)  # the box's left edge
        assert _colour_share(picture, colour, edge) > 0.9
        assert _colour_share(picture, other, edge) == 0.0
        inside = (left + 10, top + 10, right - 10, bottom - 10)
        assert _colour_share(picture, colour, inside) == 0.0  # the digit itself is not covered
        above = (left, max(0, top - margin), right, top)  # the label stands over its box
        assert _colour_share(picture, colour, above) > 0.1


def test_a_digit_at_the_top_edge_keeps_its_label_on_the_picture():
    picture = annotate.boxed(Image.new("RGB", (300, 100), (255, 255, 255)), [annotate.Label(10, 0, 40, 90, "1", False)])
    label_strip = picture.crop((0, 0, picture.width, picture.height - round(100 * annotate.DISPLAY_WIDTH / 300)))
    assert _colour_share(label_strip, annotate.SURE_COLOUR, (0, 0, label_strip.width, label_strip.height)) > 0.0
