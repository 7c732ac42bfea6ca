"""Tests for the page stage's ruling finder on squared paper: a grid whose squares are smaller than
the digits, slightly tilted, with digits drawn over it; the grid goes, the digits stay."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitcore.reading.page import find_ink
from digitcore.reading.preprocess import to_mnist

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


def _photo(width: int, height: int, draw_marks, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(picture, where the pen drew): `draw_marks(paper_draw, pen_draw)` on grainy paper, the pen dark."""
    page = Image.new("RGB", (width, height), PAPER)
    digits = Image.new("L", (width, height), 0)
    draw_marks(ImageDraw.Draw(page), ImageDraw.Draw(digits))
    drawn = np.asarray(digits) > 127
    picture = np.asarray(page, dtype=np.float32)
    picture[drawn] = PEN
    picture += np.random.default_rng(seed).normal(0, 8, picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8), drawn


def test_a_long_stroke_of_a_digit_on_plain_paper_is_not_a_ruling():
    """A thin-pen 4 whose stem runs on past the rest of the digit at both ends: on plain paper no
    line runs on towards the picture's edges, so the stem is the digit's, not a ruling."""

    def four(_paper, pen):
        pen.line([(55, 45), (48, 105)], fill=255, width=2)
        pen.line([(48, 105), (128, 105)], fill=255, width=2)
        pen.line([(110, 28), (107, 155)], fill=255, width=2)

    picture, drawn = _photo(180, 180, four, seed=3)  # large enough to be read at its own size
    page = find_ink(picture)
    assert not page.lines.any(), "a stroke of the digit was taken for a ruling"
    assert (page.mask & drawn).sum() > 0.85 * drawn.sum()
    prepared = to_mnist(picture)
    assert "lines" not in [step.name for step in prepared.steps]


def test_a_dark_stroke_lying_along_a_grid_line_is_kept():
    """A 1 written over a light grid line, and the base of a 2 along another: the grid goes, the
    digits' ink (far darker than the print) stays."""

    def digits(paper, pen):
        for y in range(2, 220, 22):
            paper.line([(0, y), (320, y)], fill=GRID, width=2)
        for x in range(4, 320, 22):
            paper.line([(x, 0), (x, 220)], fill=GRID, width=2)
        pen.line([(92, 46), (92, 178)], fill=255, width=3)  # a 1 on the line x = 92
        pen.arc([150, 40, 220, 110], start=180, end=30, fill=255, width=3)  # a 2, its base on the line y = 178
        pen.line([(215, 90), (150, 178), (226, 178)], fill=255, width=3)

    picture, drawn = _photo(320, 220, digits, seed=4)
    page = find_ink(picture)
    assert page.lines.sum() > 5000, "the grid was not found"
    assert (page.mask & drawn).sum() > 0.85 * drawn.sum(), "ink lying along the grid went with it"


def test_a_crossed_7_drawn_from_edge_to_edge_keeps_its_stem():
    """A crossed 7 drawn as large as the pad allows: the bar along the top edge, the stem down to
    the bottom edge. One mark crossing the picture is a digit, not lines: nothing is removed."""
    picture = Image.new("L", (70, 110), 255)
    pen = ImageDraw.Draw(picture)
    pen.line([(8, 1), (62, 1)], fill=0, width=3)
    pen.line([(60, 1), (48, 109)], fill=0, width=3)  # steep: within the tilts a ruling may have
    pen.line([(42, 56), (66, 56)], fill=0, width=3)
    prepared = to_mnist(np.asarray(picture))
    assert prepared.kind == "canvas"
    assert "lines" not in [step.name for step in prepared.steps], "the 7's stem was taken for a ruling"
