"""Tests for the page stage's ruling finder on squared paper: a grid whose squares are smaller than
the digits, slightly tilted, with digits drawn over it; the grid goes, the digits stay."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitcore.reading.page import _in_step, find_ink, ruling_lines
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


def test_lines_in_step_with_a_grid_are_found_by_its_spacing():
    """Rulings 22 px apart (one a gap of two spacings): lines a whole number of spacings from them
    are in step, one between two of them is not, nor a ruling itself; NaN marks a band that is no line."""
    positions = np.array([np.nan, 10.0, 32.0, 76.5, 54.5, 43.0, 120.3, np.nan])
    rulings = np.array([False, True, True, True, False, False, False, False])
    assert _in_step(positions, rulings).tolist() == [False, False, False, False, True, False, True, False]
    # a single ruling gives no spacing to step by
    assert not _in_step(positions, np.array([False, True] + [False] * 6)).any()


def _grid_mask(broken_below: int | None) -> np.ndarray:
    """A thresholded squared page (lines 2 px wide, 22 px apart) with a ring drawn over it; with
    `broken_below`, the grid line at x = 100 is lost below that row (as light as the paper there)."""
    mask = np.zeros((200, 200), dtype=bool)
    for step in range(12, 200, 22):
        mask[step : step + 2] = True
        mask[:, step : step + 2] = True
    if broken_below is not None:
        mask[broken_below:, 100:102] = False
        mask[broken_below:, 100:102] = np.random.default_rng(0).random((200 - broken_below, 2)) < 0.3  # crumbs
        for step in range(12, 200, 22):
            mask[step : step + 2, 100:102] = True  # where the level lines cross it
    ring = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(ring).ellipse([70, 45, 130, 150], outline=255, width=6)
    return mask | (np.asarray(ring) > 127)


def test_a_grid_line_broken_below_the_digit_is_still_a_grid_line():
    """A grid line as light as the paper below the digit runs past it at one end only, as a digit's
    stroke can; lying in step with the grid's other lines, it is a grid line all the same."""
    mask = _grid_mask(broken_below=120)
    lines = ruling_lines(mask)
    above_the_digit = np.zeros_like(mask)
    above_the_digit[:40, 100:102] = True
    above_the_digit &= mask
    assert lines[above_the_digit].mean() > 0.9, "the broken grid line stayed, joining the digit to the edge"


def test_a_thin_1_beside_specks_on_plain_paper_is_not_a_ruling():
    """One long thin mark that stops short of the picture's edges, with a few specks of the paper's
    grain around it: rulings come several to a page (or one crosses it), so this is a 1."""
    mask = np.zeros((160, 160), dtype=bool)
    mask[18:141, 79:81] = True  # a thin-pen 1
    for top, left in ((60, 30), (96, 120), (80, 50)):
        mask[top : top + 4, left : left + 4] = True  # specks the threshold kept
    assert not ruling_lines(mask).any(), "the 1 was taken for a ruling"
    crossing = mask.copy()
    crossing[:, 79:81] = True  # the same mark from edge to edge: a lone ruling or a margin line
    assert ruling_lines(crossing)[:, 79:81].mean() > 0.9


def test_curved_rulings_on_a_clean_scan_joined_by_a_margin_line_are_removed():
    """A clean scan (flat paper: read as a drawing) of a page whose rulings bend and which a margin
    line joins into one mark with them: they still meet both sides of the picture at two places each,
    as rulings do, so they are looked for at every tilt and bend, and removed."""
    picture = Image.new("RGB", (220, 170), (250, 250, 250))
    paper = ImageDraw.Draw(picture)
    for base in (30, 140):
        paper.line([(x, base + 14 * ((x - 110) / 110) ** 2) for x in range(0, 221, 4)], fill=(120, 130, 150), width=2)
    paper.line([(30, 0), (30, 170)], fill=(120, 130, 150), width=2)
    paper.ellipse([85, 50, 145, 125], outline=(20, 20, 20), width=7)  # a 0 between the rulings
    prepared = to_mnist(np.asarray(picture))
    assert prepared.kind == "canvas"
    assert "lines" in [step.name for step in prepared.steps], "the bent rulings were left in the digit"
    rows_with_ink = np.nonzero(prepared.image.max(axis=1) > 0.3)[0]
    assert rows_with_ink[-1] - rows_with_ink[0] >= 18, "the digit was squashed between the rulings"


def test_the_rulings_of_a_small_crop_are_found_though_enlarging_made_them_thick():
    """A notebook photographed from afar and cropped to one digit, 64x56 px: rulings 2 px thick,
    blurred, as thick as the pen. The page stage reads it enlarged three times, and the rulings
    with it are 6 px thick and more, thicker than 4 px: they are still rulings, and the 1 between
    two of them stays a 1 (it was read as a 7 with a piece of ruling as its bar, or not at all)."""
    width, height = 64, 56
    page = Image.new("RGB", (width, height), PAPER)
    paper = ImageDraw.Draw(page)
    for y in (9, 31, 53):
        paper.line([(0, y), (width, y + 2)], fill=GRID, width=2)
    paper.line([(9, 0), (9, height)], fill=(215, 120, 120), width=2)  # the margin line
    digits = Image.new("L", (width, height), 0)
    ImageDraw.Draw(digits).line([(34, 12), (30, 44)], fill=255, width=3)  # a 1 crossing the middle ruling
    drawn = np.asarray(digits) > 127
    picture = np.asarray(page, dtype=np.float32)
    picture[drawn] = PEN
    picture = np.asarray(Image.fromarray(picture.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8)), np.float32)
    picture = np.clip(picture + np.random.default_rng(5).normal(0, 8, picture.shape), 0, 255).astype(np.uint8)
    ink = find_ink(picture)
    assert ink.scale == 3.0 and ink.photo
    assert ink.lines.any(), "the thick rulings of the enlarged crop were not found"
    grown = np.asarray(Image.fromarray(drawn).resize((width * 3, height * 3)).filter(ImageFilter.MaxFilter(9)))
    assert (ink.mask & ~grown).sum() < 0.05 * ink.mask.sum(), "rulings were kept as the digit's ink"
    rows = np.nonzero(ink.mask.any(axis=1))[0]
    assert rows[-1] - rows[0] >= 0.8 * 3 * 32, "the 1 lost its length with the rulings"


def test_rulings_that_fade_before_the_far_side_of_large_digits_are_found_from_the_edge():
    """Large digits "0799" on three rulings: one runs edge to edge, the one below fades out before
    the last 9 and the lowest begins under the 0 (a phone's uneven light, a page's curl). Those two
    run past the digits from the picture's edge at one end only, and one ruling gives no grid
    spacing to be in step with, so they were kept as ink (in a generated page of squared paper they
    joined the digits to the picture's edge, and all was dropped: "no digit found")."""

    def digits(paper, pen):
        ruling = (100, 120, 190)
        paper.line([(0, 52), (400, 46)], fill=ruling, width=2)
        paper.line([(0, 98), (330, 93)], fill=ruling, width=2)
        paper.line([(75, 143), (400, 138)], fill=ruling, width=2)
        pen.ellipse([25, 40, 115, 130], outline=255, width=12)  # a 0
        pen.line([(135, 62), (185, 58), (160, 128)], fill=255, width=12)  # a 7
        for left in (205, 275):  # two 9s: a loop and a bent stem
            pen.ellipse([left, 55, left + 45, 95], outline=255, width=12)
            pen.arc([left - 20, 20, left + 45, 135], start=0, end=75, fill=255, width=12)

    picture, drawn = _photo(400, 180, digits, seed=6)
    page = find_ink(picture)
    near_digits = np.asarray(Image.fromarray(drawn).filter(ImageFilter.MaxFilter(9)))
    assert page.lines.sum() > 2000, "only the ruling running edge to edge was found"
    assert (page.mask & ~near_digits).sum() < 0.005 * page.mask.sum(), "pieces of rulings were kept as ink"
    assert (page.mask & drawn).sum() > 0.85 * drawn.sum(), "the digits lost ink with the rulings"


def test_a_rulings_piece_stopping_short_of_the_pictures_corner_is_not_taken_for_a_digit():
    """Four 0s on ruled lines, and in the top right corner the last piece of a line that the blur and
    the threshold cut off a few pixels short of the picture's edges. The digits' extent is measured on
    what is left when the rulings are taken out, leaving out what touches the edge; this piece did
    not touch it, so "the digits" reached the right edge, no line ran past them there, and none was
    a ruling (a generated squared page of "1415": all was dropped as lines, "no digit found")."""
    mask = np.zeros((145, 300), np.uint8)
    for y in (40, 65, 90, 115):
        cv2.line(mask, (0, y), (299, y + 3), 1, 2)
    for x in (30, 85, 140, 195):
        cv2.ellipse(mask, (x + 22, 70), (20, 38), 0, 0, 360, 1, 6)
    cv2.line(mask, (250, 3), (296, 3), 1, 2)  # 2 to 3 pixels off the top and right edges
    lines = ruling_lines(mask.astype(bool))
    assert lines[40:120].sum() > 2000, "the rulings were not found"
