"""Tests for the page stage's ruling finder on squared paper: a grid whose squares are smaller than
the digits, slightly tilted, with digits drawn over it; the grid goes, the digits stay."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitcore.reading.page import find_ink

PAPER = (240, 238, 230)
GRID = (150, 175, 225)
PEN = (25, 30, 40)


def _grid_page(angle: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(picture, where the digits were drawn): a 9, a 2 and a 7 over a grid 22 px square."""
    width, height = 320, 220
    page = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(page)
    slope = np.tan(np.radians(angle))
    for y in range(-40, height + 40, 22):
        draw.line([(0, y), (width, y + slope * width)], fill=GRID, width=2)
    for x in range(-40, width + 40, 22):
        draw.line([(x, 0), (x - slope * height, height)], fill=GRID, width=2)
    digits = Image.new("L", (width, height), 0)
    pen = ImageDraw.Draw(digits)
    pen.ellipse([60, 50, 110, 110], outline=255, width=8)  # a 9: a loop and a long slanted stem
    pen.line([(108, 80), (92, 175)], fill=255, width=8)
    pen.arc([140, 50, 200, 110], start=180, end=30, fill=255, width=8)  # a 2
    pen.line([(196, 95), (140, 170), (205, 170)], fill=255, width=8)
    pen.line([(225, 55), (280, 55), (245, 172)], fill=255, width=8)  # a 7
    drawn = np.asarray(digits) > 127
    picture = np.asarray(page, dtype=np.float32)
    picture[drawn] = PEN
    picture += np.random.default_rng(seed).normal(0, 8, picture.shape)  # a camera's grain: a photo
    return np.clip(picture, 0, 255).astype(np.uint8), drawn


@pytest.mark.parametrize(("angle", "seed"), [(0.0, 0), (2.5, 1), (-4.0, 2)])
def test_a_grid_is_removed_and_the_digits_kept(angle, seed):
    picture, drawn = _grid_page(angle, seed)
    page = find_ink(picture)
    near_digits = np.asarray(Image.fromarray(drawn).filter(ImageFilter.MaxFilter(9)))
    kept_elsewhere = page.mask & ~near_digits
    assert page.lines.sum() > 5000, "the grid was not found"
    assert kept_elsewhere.sum() < 0.02 * page.lines.sum(), "pieces of the grid were kept as ink"
    assert (page.mask & drawn).sum() > 0.85 * drawn.sum(), "the digits lost ink with the grid"
