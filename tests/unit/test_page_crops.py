"""Tests for the page stage (digitcore.reading.page.find_ink) on the edges of the picture: digits that
a tight crop cuts are kept, a paper's or a table's edge is dropped. The pictures are made here: strokes
drawn with a pen on grainy paper, so that they are read as photos."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitcore.reading.page import digits_cut_by_a_tight_crop, find_ink

PAPER = (236, 232, 222)
PEN = (30, 40, 120)
PEN_WIDTH = 9


def _one(draw: ImageDraw.ImageDraw, x: int, top: int, bottom: int) -> None:
    draw.line([(x + 8, top), (x + 2, bottom)], fill=PEN, width=PEN_WIDTH)


def _seven(draw: ImageDraw.ImageDraw, x: int, top: int, bottom: int) -> None:
    draw.line([(x, top + 4), (x + 44, top + 4)], fill=PEN, width=PEN_WIDTH)
    draw.line([(x + 44, top + 4), (x + 14, bottom)], fill=PEN, width=PEN_WIDTH)


def _zero(draw: ImageDraw.ImageDraw, x: int, top: int, bottom: int) -> None:
    draw.ellipse([x, top, x + 48, bottom], outline=PEN, width=PEN_WIDTH)


def _four(draw: ImageDraw.ImageDraw, x: int, top: int, bottom: int) -> None:
    middle = top + (bottom - top) * 3 // 5
    draw.line([(x + 10, top), (x, middle), (x + 48, middle)], fill=PEN, width=PEN_WIDTH)
    draw.line([(x + 34, top + 10), (x + 34, bottom)], fill=PEN, width=PEN_WIDTH)


# each digit: how it is drawn, and its top and bottom on a page 200 px tall (the crop takes rows 50..150)
ROW = ((_one, 46, 154), (_seven, 46, 154), (_zero, 60, 140), (_four, 48, 152))


def _page(width: int = 420, height: int = 200, seed: int = 0) -> tuple[Image.Image, list[tuple[int, int]]]:
    """A page with the row of digits drawn on it, and each digit's column span."""
    page = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(page)
    spans = []
    left = 60
    for stroke, top, bottom in ROW:
        stroke(draw, left, top, bottom)
        spans.append((left - PEN_WIDTH, left + 48 + PEN_WIDTH))
        left += 80
    return page, spans


def _photo(page: Image.Image, seed: int = 0) -> np.ndarray:
    """The page with a camera's grain (so it is read as a photo, not a drawing)."""
    noisy = np.asarray(page, dtype=np.float32) + np.random.default_rng(seed).normal(0, 4, (page.height, page.width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _kept_share(mask: np.ndarray, drawn: np.ndarray, span: tuple[int, int]) -> float:
    """The share of one digit's drawn pixels that the page stage kept."""
    left, right = max(0, span[0]), min(mask.shape[1], span[1])
    inside = drawn[:, left:right]
    return float((mask[:, left:right] & inside).sum() / max(1, inside.sum()))


def _drawn(picture: np.ndarray) -> np.ndarray:
    return picture.astype(np.float32).mean(axis=-1) < 150


@pytest.mark.parametrize("inset", [0, 1])
def test_a_tight_crop_of_a_number_keeps_the_digits_it_cuts(inset):
    """Cropped at (or a pixel inside) the tallest digits' top and bottom: the 1, the 7 and the 4 touch
    the picture's edge and span its height, the 0 does not; all four are the number."""
    page, spans = _page()
    picture = _photo(page.crop((0, 50 + inset, page.width, 150 - inset)))
    ink = find_ink(picture)
    assert ink.scale == 1.0
    drawn = _drawn(picture)
    for span in spans:
        assert _kept_share(ink.mask, drawn, span) > 0.9, f"a digit at columns {span} was dropped as an edge"


def test_a_tight_crop_of_one_digit_alone_keeps_it():
    page = Image.new("RGB", (160, 200), PAPER)
    _one(ImageDraw.Draw(page), 70, 46, 154)
    picture = _photo(page.crop((0, 50, 160, 150)))
    ink = find_ink(picture)
    drawn = _drawn(picture)
    assert (ink.mask & drawn).sum() > 0.9 * drawn.sum()


def test_a_paper_edge_is_still_dropped_beside_digits_with_paper_around_them():
    """A dark table beyond the paper's edge along the left side (tilted, the width of a stroke or two),
    and a thin fold line across the top: neither is ink of the digits, which are kept."""
    page, spans = _page(height=260)
    draw = ImageDraw.Draw(page)
    draw.polygon([(0, 0), (22, 0), (14, page.height), (0, page.height)], fill=(60, 50, 45))
    draw.line([(0, 8), (page.width, 14)], fill=(120, 120, 130), width=2)
    picture = _photo(page.resize((page.width, page.height)))
    ink = find_ink(picture)
    assert not ink.mask[:, :30].any(), "the table's edge was kept as ink"
    assert not ink.mask[:20].any(), "the fold across the top was kept as ink"
    drawn = _drawn(picture)
    for span in spans:
        assert _kept_share(ink.mask, drawn, span) > 0.9


def test_a_table_edge_beside_a_tight_crop_is_dropped_and_the_digits_kept():
    page, spans = _page()
    picture_page = page.crop((0, 50, page.width, 150))
    draw = ImageDraw.Draw(picture_page)
    right = picture_page.width
    draw.polygon([(right - 24, 0), (right, 0), (right, 100), (right - 18, 100)], fill=(60, 50, 45))
    picture = _photo(picture_page)
    ink = find_ink(picture)
    assert not ink.mask[:, right - 30 :].any(), "the table's edge was kept as ink"
    drawn = _drawn(picture)
    for span in spans:
        assert _kept_share(ink.mask, drawn, span) > 0.9


def test_digits_a_tight_crop_cuts_are_kept_when_they_are_taller_than_the_one_inside():
    """A small 2's height is 0.6 of the crop; the two 0s beside it were cut at the crop's top and
    bottom, so they are taller than the only digit inside. The crop follows the tallest digits: a
    digit it cuts is no less a digit for being taller than the rest."""
    page = Image.new("RGB", (320, 200), PAPER)
    draw = ImageDraw.Draw(page)
    draw.arc([40, 78, 80, 112], start=180, end=20, fill=PEN, width=PEN_WIDTH)  # a small 2
    draw.line([(78, 100), (42, 138), (84, 138)], fill=PEN, width=PEN_WIDTH)
    spans = [(40 - PEN_WIDTH, 84 + PEN_WIDTH)]
    for left in (120, 210):
        _zero(draw, left, 44, 156)
        spans.append((left - PEN_WIDTH, left + 48 + PEN_WIDTH))
    picture = _photo(page.crop((0, 50, page.width, 150)))
    ink = find_ink(picture)
    drawn = _drawn(picture)
    for span in spans:
        assert _kept_share(ink.mask, drawn, span) > 0.9, f"a digit at columns {span} was dropped as an edge"


@pytest.mark.parametrize("slant", [4, 8, 12, 16, 20])
def test_a_slanted_1_that_a_tight_crop_cuts_is_kept(slant):
    """A number "7041" written 64 px tall with a thick pen and cropped tightly to 60 px, its 1 cut at
    both ends and written at a slant (its top `slant` px right of its foot). A mark was a stroke when
    its stroke width was under a third of its box's width, or its box under a quarter as wide as
    tall: a 1 slanted 8 to 16 px was neither and was dropped as an edge. Its pixels lie along one
    line (a length 4 times its width or more) at any slant."""
    page = Image.new("RGB", (300, 120), PAPER)
    draw = ImageDraw.Draw(page)
    spans = []
    for left, stroke in zip((30, 100, 170), (_seven, _zero, _four)):
        stroke(draw, left, 28, 92)
        spans.append((left - PEN_WIDTH, left + 48 + PEN_WIDTH))
    draw.line([(240 + slant, 26), (240, 94)], fill=PEN, width=PEN_WIDTH)
    spans.append((240 - PEN_WIDTH, 240 + slant + PEN_WIDTH))
    picture = _photo(page.crop((0, 30, page.width, 90)))
    ink = find_ink(picture)
    drawn = _drawn(picture)
    for span in spans:
        assert _kept_share(ink.mask, drawn, span) > 0.9, f"a digit at columns {span} was dropped as an edge"


def test_a_crop_close_at_the_numbers_end_keeps_the_digit_its_side_cuts():
    """Paper above and below the number, but the crop's right side runs through the 4 (through its
    bar, across): a mark meeting only a side, in the digits' row, as tall as they are and drawn with
    the same pen, is a digit the crop cut (it was dropped as an edge)."""
    page, spans = _page(height=300)
    picture = _photo(page.crop((20, 0, spans[-1][1] - 16, 280)))  # the digits fill 0.39 of its height
    ink = find_ink(picture)
    drawn = _drawn(picture)
    for left, right in spans:
        span = (left - 20, right - 20)
        assert _kept_share(ink.mask, drawn, span) > 0.9, f"a digit at columns {span} was dropped as an edge"


def test_one_digit_reading_still_drops_what_only_a_side_of_the_crop_cuts():
    """Cropped around the 0 with paper above and below, the right side cutting the 4 beside it: a
    number's reader keeps the 4 (the end of the number), one-digit reading (its tight-crop rule is
    digits_cut_by_a_tight_crop) drops it as a neighbour's piece, not its digit."""
    page, spans = _page(height=300)
    left = spans[2][0] - 20
    picture = _photo(page.crop((left, 0, spans[3][1] - 16, 280)))
    ink = find_ink(picture)
    four = (spans[3][0] - left, spans[3][1] - left)
    assert _kept_share(ink.mask, _drawn(picture), four) > 0.9
    assert not digits_cut_by_a_tight_crop(ink.mask).any()
