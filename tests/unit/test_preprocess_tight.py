"""Tests for the one-digit path (digitcore.reading.preprocess.to_mnist) on a tight crop: a digit cut
at the picture's top and bottom is kept as the digit, even beside a small mark that has paper around
it. The pictures are made here: strokes drawn with a pen on grainy paper, so they are read as photos."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitcore.reading.preprocess import to_mnist

PAPER = (236, 232, 222)
PEN = (30, 40, 120)


def _tight_zero_beside_a_tick(inset: int) -> np.ndarray:
    """A 0 cropped at (or a pixel inside) its top and bottom, with a short tick beside it that the
    crop does not reach (a stray pen mark, a dot): the 0 touches the picture's edge, the tick does not."""
    page = Image.new("RGB", (160, 200), PAPER)
    draw = ImageDraw.Draw(page)
    draw.ellipse([50, 50, 100, 150], outline=PEN, width=9)
    draw.line([(120, 90), (124, 108)], fill=PEN, width=7)
    crop = page.crop((0, 50 + inset, 160, 151 - inset))
    grain = np.random.default_rng(0).normal(0, 4, (crop.height, crop.width, 3))
    return np.clip(np.asarray(crop, dtype=np.float32) + grain, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("inset", [0, 1])
def test_a_digit_cut_by_a_tight_crop_is_read_not_the_mark_beside_it(inset):
    result = to_mnist(_tight_zero_beside_a_tick(inset), kind="photo")
    digit = result.image
    rows = np.nonzero(digit.max(axis=1) > 0.3)[0]
    cols = np.nonzero(digit.max(axis=0) > 0.3)[0]
    # the 0 is taller than wide and fills the 20-px box's height; a ring: ink around, none in the middle
    assert rows[-1] - rows[0] + 1 >= 18, "the digit cut by the crop was dropped: only the mark beside it is left"
    assert cols[-1] - cols[0] + 1 >= 8
    middle_row = digit[(rows[0] + rows[-1]) // 2]
    assert middle_row[cols[0] : cols[0] + 4].max() > 0.3 and middle_row[cols[-1] - 3 : cols[-1] + 1].max() > 0.3
    assert digit[(rows[0] + rows[-1]) // 2, (cols[0] + cols[-1]) // 2] < 0.2, "the 0's hole was filled"
