"""Tests for digitcore.reading: the page stage (rulings and specks left out), grouping strokes into
digits, splitting touching digits, row order, and reading whole numbers with a small real model."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from digitcore.reading.page import Box, find_ink
from digitcore.reading.preprocess import NoDigitFound
from digitcore.reading.segment import Glyph, find_glyphs, order_rows, split_options
from test_inference import small_model_directory

DIGIT_HEIGHT = 60


@pytest.fixture(scope="module")
def model(tmp_path_factory, mnist):
    from digitcore import registry

    return registry.load(None, small_model_directory(tmp_path_factory, mnist))


def digit_ink(digit28: np.ndarray, height: int = DIGIT_HEIGHT) -> np.ndarray:
    """The MNIST digit's ink box enlarged to `height` px, as float ink in [0, 1]."""
    rows, cols = np.nonzero(digit28 > 30)
    crop = digit28[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    width = max(1, round(crop.shape[1] * height / crop.shape[0]))
    big = np.asarray(Image.fromarray(crop).resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)
    return np.clip((big - 60) / 120, 0, 1)


def number_page(inks: list[np.ndarray], gap: int = 20, rows: int = 1, size=(420, 260)) -> np.ndarray:
    """(h, w) float ink of the digits side by side (split evenly into `rows` rows), a margin around."""
    page = np.zeros((size[1], size[0]), dtype=np.float32)
    per_row = int(np.ceil(len(inks) / rows))
    for index, ink in enumerate(inks):
        row, column = divmod(index, per_row)
        top = 30 + row * (DIGIT_HEIGHT + 40)
        left = 30 + sum(i.shape[1] + gap for i in inks[row * per_row : row * per_row + column])
        region = page[top : top + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
    return page


def on_paper(ink: np.ndarray, paper=(0.97, 0.96, 0.9), pen=(0.1, 0.15, 0.5)) -> np.ndarray:
    """(h, w, 3) uint8: the ink in a ballpoint's colour on paper."""
    colour = np.array(paper) * (1 - ink[..., None]) + np.array(pen) * ink[..., None]
    return np.round(colour * 255).astype(np.uint8)


def ruled(image: np.ndarray, spacing: int, angle: float, bend: float = 0.0) -> np.ndarray:
    """The picture with blue ruled lines drawn over it at `angle` degrees, bent by up to `bend` px."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    height, width = image.shape[:2]
    xs = np.linspace(0, width, 40)
    for base in range(-height, 2 * height, spacing):
        ys = base + np.tan(np.radians(angle)) * xs + bend * np.sin(np.pi * xs / width)
        draw.line(list(zip(xs, ys)), fill=(110, 140, 215), width=2)
    return np.asarray(picture)


# ---------------------------------------------------------------------------------------------
# The page stage


@pytest.mark.parametrize("angle, bend", [(0.0, 0.0), (6.0, 0.0), (-8.0, 0.0), (3.0, 5.0)])
def test_ruled_lines_are_removed_and_the_digits_kept(mnist, angle, bend):
    ink = number_page([digit_ink(mnist.x_test[i]) for i in (0, 1, 2)])
    page = find_ink(ruled(on_paper(ink), spacing=45, angle=angle, bend=bend))
    digits = ink > 0.5
    near_digits = np.asarray(Image.fromarray(digits).filter(ImageFilter.MaxFilter(9)))
    kept_elsewhere = page.mask & ~near_digits
    assert page.lines.sum() > 2000, "the rulings were not found"
    assert kept_elsewhere.sum() < 0.01 * page.lines.sum(), "pieces of ruling were kept as ink"
    assert (page.mask & digits).sum() > 0.85 * digits.sum(), "the digits lost ink with the lines"


def test_a_blank_page_with_only_rulings_has_no_digit():
    blank = ruled(on_paper(np.zeros((240, 320), np.float32)), spacing=40, angle=4.0)
    try:
        glyphs = find_glyphs(find_ink(blank))
    except NoDigitFound:
        glyphs = []
    assert glyphs == []


def test_boxes_are_given_in_the_pixels_of_the_image_as_given(mnist):
    ink = number_page([digit_ink(mnist.x_test[0])], size=(1600, 900))  # shrunk by the page stage
    page = find_ink(on_paper(ink))
    (glyph,) = find_glyphs(page)
    box = page.to_original(glyph.box)
    rows, cols = np.nonzero(ink > 0.5)
    assert abs(box.x - cols.min()) <= 4 and abs(box.y - rows.min()) <= 4
    assert abs(box.right - cols.max()) <= 5 and abs(box.bottom - rows.max()) <= 5


# ---------------------------------------------------------------------------------------------
# Grouping, splitting, rows


def _strokes(size, lines, width=5) -> np.ndarray:
    picture = Image.new("L", size, 0)
    draw = ImageDraw.Draw(picture)
    for line in lines:
        draw.line(line, fill=255, width=width)
    return np.asarray(picture, dtype=np.float32) / 255.0


def test_a_five_with_a_loose_flag_and_a_four_in_two_strokes_are_one_digit_each():
    five_body = [(60, 40, 58, 70), (58, 70, 80, 72), (80, 72, 88, 85), (88, 85, 84, 98), (84, 98, 56, 100)]
    five_flag = [(64, 30, 92, 30)]  # does not touch the body
    four_left = [(130, 30, 120, 75), (120, 75, 160, 75)]
    four_stem = [(150, 45, 152, 100)]  # crosses nothing: a pen lift before the stem
    ink = _strokes((240, 140), five_body + five_flag + four_left + four_stem)
    glyphs = find_glyphs(find_ink(on_paper(ink)))
    assert len(glyphs) == 2
    left, right = sorted(glyphs, key=lambda glyph: glyph.box.x)
    assert left.box.y < 35 and left.box.bottom > 95  # the flag joined the 5
    assert right.box.y < 35 and right.box.bottom > 95  # the stem joined the 4


def test_specks_are_not_digits(mnist):
    ink = number_page([digit_ink(mnist.x_test[i]) for i in (0, 1)])
    ink[200:203, 380:383] = 1.0  # a speck of dust
    ink[150:152, 150:160] = 1.0  # a short dash below the digits
    glyphs = find_glyphs(find_ink(on_paper(ink)))
    assert len(glyphs) == 2


def test_a_digit_a_ruling_cut_in_two_is_one_glyph():
    # three 1s, the middle one broken where a ruling was removed, and two short stray pen marks
    # below: many marks, little ink. The digits' height is counted by ink, so the stray marks do not
    # lower it and the two pieces read as one digit (not as two stacked), the marks as no digit.
    ones = [(40, 30, 40, 105), (100, 30, 100, 50), (100, 58, 100, 105), (160, 30, 160, 105)]
    stray = [(60, 160, 90, 172), (130, 165, 160, 177)]
    glyphs = find_glyphs(find_ink(on_paper(_strokes((240, 200), ones + stray))))
    assert len(glyphs) == 3
    assert all(glyph.box.y < 32 and glyph.box.bottom > 103 for glyph in glyphs)


def test_a_line_under_the_number_is_not_a_digit(mnist):
    ink = number_page([digit_ink(mnist.x_test[i]) for i in (0, 1, 2)])
    ink[100:105, 25:250] = 1.0  # underlined, wider than the digits are tall: still no digit
    glyphs = find_glyphs(find_ink(on_paper(ink)))
    assert len(glyphs) == 3 and all(glyph.box.h > 0.8 * DIGIT_HEIGHT for glyph in glyphs)


def test_touching_digits_get_a_split_that_separates_them(mnist):
    zero = digit_ink(mnist.x_test[3])  # a 0
    ink = np.zeros((120, 40 + 2 * zero.shape[1]), np.float32)
    ink[30 : 30 + DIGIT_HEIGHT, 20 : 20 + zero.shape[1]] = zero
    second = 20 + zero.shape[1] - 4  # overlapping by 4 px: the two 0s touch
    np.maximum(
        ink[30 : 30 + DIGIT_HEIGHT, second : second + zero.shape[1]],
        zero,
        out=ink[30 : 30 + DIGIT_HEIGHT, second : second + zero.shape[1]],
    )
    page = find_ink(on_paper(ink))
    (glyph,) = find_glyphs(page)
    options = split_options(glyph, float(glyph.box.h))
    assert len(options[0].parts) == 1  # unsplit first
    halves = [option for option in options if len(option.parts) == 2]
    assert halves, "no split was offered for two touching digits"
    best = min(halves, key=lambda option: abs(option.parts[0].box.w - option.parts[1].box.w))
    meet = glyph.box.x + (zero.shape[1] - 2) * page.scale  # in the page stage's pixels
    assert abs(best.parts[1].box.x - meet) <= 8 * page.scale  # cut where they meet


def test_a_narrow_glyph_is_not_split():
    glyph = Glyph(Box(0, 0, 20, 60), np.ones((60, 20), np.float32), np.ones((60, 20), bool))
    assert len(split_options(glyph, 60.0)) == 1


def _glyph_at(x: int, y: int, w: int = 30, h: int = 50) -> Glyph:
    return Glyph(Box(x, y, w, h), np.ones((h, w), np.float32), np.ones((h, w), bool))


def test_rows_are_read_top_to_bottom_and_left_to_right():
    second_row = [_glyph_at(200, 130), _glyph_at(20, 125), _glyph_at(110, 135)]
    first_row = [_glyph_at(150, 12), _glyph_at(10, 5), _glyph_at(80, 8)]
    rows = order_rows(second_row + first_row)
    assert [[g.box.x for g in row] for row in rows] == [[10, 80, 150], [20, 110, 200]]


def test_a_row_of_marks_far_lower_than_the_digits_is_not_a_row_of_the_number():
    digits = [_glyph_at(10, 20), _glyph_at(60, 22), _glyph_at(110, 20)]
    stray = [_glyph_at(40, 200, w=60, h=18)]  # a mark in a shadow under the number, a third as tall
    second_row = [_glyph_at(10, 120, h=45), _glyph_at(60, 118, h=45)]  # digits written a little smaller
    assert [[g.box.x for g in row] for row in order_rows(digits + stray)] == [[10, 60, 110]]
    rows = order_rows(digits + second_row + stray)
    assert [[g.box.y for g in row] for row in rows] == [[20, 22, 20], [120, 118]]


def test_a_long_number_photographed_at_a_tilt_is_one_row():
    """Nine digits rising 7 px each (a phone held a few degrees off, the number 0.6 of a digit's height
    higher at its right end than at its left): neighbours share most of their height, so it is one row,
    read left to right (it was read as two rows, the right end's digits first)."""
    tilted = [_glyph_at(10 + 40 * n, 100 - 7 * n) for n in range(9)]
    rows = order_rows(list(reversed(tilted)))
    assert [[g.box.x for g in row] for row in rows] == [[10 + 40 * n for n in range(9)]]


def test_two_tilted_rows_stay_two_rows():
    tilt = 4  # px per digit: both lines of the number written uphill alike
    first = [_glyph_at(10 + 40 * n, 60 - tilt * n) for n in range(5)]
    second = [_glyph_at(10 + 40 * n, 140 - tilt * n) for n in range(5)]
    rows = order_rows(second + first)
    assert [[g.box.y for g in row] for row in rows] == [
        [60 - tilt * n for n in range(5)],
        [140 - tilt * n for n in range(5)],
    ]


def test_digits_written_up_and_down_on_purpose_are_one_row():
    """A tall 1, a low 2, a high 3, a low 5, a tall 7: the 3 shares no height with the 2 or the 5 beside
    it, but its middle lies within the height the row spans, so it is read in its place."""
    steps = [_glyph_at(10, 20, h=80), _glyph_at(60, 70, h=30), _glyph_at(110, 10, h=35), _glyph_at(160, 65, h=35)]
    steps.append(_glyph_at(210, 20, h=80))
    rows = order_rows(steps)
    assert [[g.box.x for g in row] for row in rows] == [[10, 60, 110, 160, 210]]


def test_a_loose_flag_sticking_out_above_the_row_is_not_read_as_a_digit_of_it():
    """A 5 written in two strokes whose flag, not touching its body, reaches above the digits' tops: a
    small mark that does not lie within the row's height is a row of its own, dropped as stray marks."""
    digits = [_glyph_at(10, 67, h=57), _glyph_at(50, 67, h=53), _glyph_at(90, 67, h=53), _glyph_at(130, 74, h=47)]
    flag = _glyph_at(155, 60, w=31, h=16)
    assert [[g.box.x for g in row] for row in order_rows(digits + [flag])] == [[10, 50, 90, 130]]
    dash = _glyph_at(170, 85, w=20, h=8)  # a mark within the row's height stays in it (the reader decides)
    assert [[g.box.x for g in row] for row in order_rows(digits + [dash])] == [[10, 50, 90, 130, 170]]
    piece = _glyph_at(115, 95, w=20, h=26)  # the lower part of the next digit's loop, broken off
    assert [[g.box.x for g in row] for row in order_rows(digits + [piece])] == [[10, 50, 90, 115, 130]]
    full_stop = _glyph_at(170, 114, w=8, h=8)  # on the digits' baseline
    assert [[g.box.x for g in row] for row in order_rows(digits + [full_stop])] == [[10, 50, 90, 130]]


def test_more_rows_than_allowed_keep_those_with_most_ink():
    small_top = [Glyph(Box(10, 0, 10, 10), np.ones((10, 10), np.float32), np.ones((10, 10), bool))]
    rows = order_rows(small_top + [_glyph_at(10, 60), _glyph_at(10, 160)], max_rows=2)
    assert [[g.box.y for g in row] for row in rows] == [[60], [160]]


# ---------------------------------------------------------------------------------------------
# Whole numbers


def test_a_number_is_read_left_to_right_with_boxes_inputs_and_probabilities(mnist, model):
    indices = (0, 1, 2, 3)  # a 7, a 2, a 1 and a 0
    ink = number_page([digit_ink(mnist.x_test[i]) for i in indices], gap=25)
    from digitcore.reading.number import read_number

    reading = read_number(ruled(on_paper(ink), spacing=50, angle=5.0), model)
    assert reading.number == "".join(str(int(mnist.y_test[i])) for i in indices)
    assert reading.rows == [reading.number]
    xs = [digit.box.x for digit in reading.digits]
    assert xs == sorted(xs)
    for digit in reading.digits:
        assert digit.image.shape == (28, 28) and digit.image.max() == pytest.approx(1.0, abs=0.05)
        assert abs(sum(digit.probabilities) - 1) < 1e-3 and digit.confidence == max(digit.probabilities)
        assert digit.row == 0 and digit.steps


def test_each_digit_of_a_number_carries_the_guards_verdict_on_its_input(mnist, model, monkeypatch):
    from digitcore import not_a_digit
    from digitcore.reading.number import read_number

    page = on_paper(number_page([digit_ink(mnist.x_test[i]) for i in (0, 1, 2)], gap=30))
    reading = read_number(page, model)
    verdicts = not_a_digit.check_many(np.stack([digit.image for digit in reading.digits]))
    assert [digit.doubtful for digit in reading.digits] == [verdict.not_a_digit for verdict in verdicts]
    # the guard doubts from its threshold on: one below every score doubts every digit
    monkeypatch.setattr(not_a_digit, "threshold", lambda: min(verdict.score for verdict in verdicts))
    assert any(digit.doubtful for digit in read_number(page, model).digits)
    monkeypatch.setattr(not_a_digit, "GUARD_PATH", not_a_digit.GUARD_PATH.with_name("missing.keras"))
    monkeypatch.setattr(not_a_digit, "_loaded", {})
    assert not any(digit.doubtful for digit in read_number(page, model).digits)  # no guard: no doubt


def test_two_rows_are_read_top_row_first(mnist, model):
    indices = (0, 1, 2, 3, 4, 7)
    ink = number_page([digit_ink(mnist.x_test[i]) for i in indices], gap=25, rows=2)
    from digitcore.reading.number import read_number

    reading = read_number(on_paper(ink), model)
    labels = "".join(str(int(mnist.y_test[i])) for i in indices)
    assert reading.rows == [labels[:3], labels[3:]]
    assert reading.number == f"{labels[:3]} {labels[3:]}"
    assert [digit.row for digit in reading.digits] == [0, 0, 0, 1, 1, 1]


def test_a_digit_whose_thick_pen_filled_its_loops_is_still_read_beside_the_others(mnist, model):
    from digitcore.reading.number import read_number

    blob = np.zeros((DIGIT_HEIGHT, 56), np.float32)  # an 8 drawn small and thick: a filled shape
    blob_picture = Image.fromarray(blob)
    ImageDraw.Draw(blob_picture).ellipse((0, 0, 55, DIGIT_HEIGHT - 1), fill=1.0)
    inks = [digit_ink(mnist.x_test[0]), np.asarray(blob_picture, dtype=np.float32), digit_ink(mnist.x_test[1])]
    reading = read_number(on_paper(number_page(inks, gap=30)), model)
    assert len(reading.digits) == 3, "the filled digit was dropped as a dot"
    middle = reading.digits[1]
    assert middle.box.h > 0.9 * DIGIT_HEIGHT and middle.image.max() == pytest.approx(1.0, abs=0.05)
    assert [step.name for step in middle.steps][-1] == "centre"  # its steps can be drawn too


def test_a_blank_page_is_no_number(model):
    from digitcore.reading.number import read_number

    with pytest.raises(NoDigitFound):
        read_number(on_paper(np.zeros((200, 300), np.float32)), model)


def _probabilities(*tops: tuple[int, float]) -> np.ndarray:
    """Ten probabilities per reading: `digit` at `probability`, the rest spread evenly."""
    rows = np.full((len(tops), 10), 0.0, dtype=np.float32)
    for row, (digit, probability) in enumerate(tops):
        rows[row] = (1 - probability) / 9
        rows[row, digit] = probability
    return rows


def test_each_digit_a_split_makes_pays_for_itself_with_its_probability():
    from digitcore.reading.number import _score

    all_digits = np.zeros(3)  # the guard takes each input for one digit
    # the left end of a wide 2 cut off reads as a fairly sure 5: the sure 2, whole, wins
    sure_two = _probabilities((2, 0.999), (5, 0.96), (2, 0.999))
    assert _score([0], sure_two, all_digits) > _score([1, 2], sure_two, all_digits)
    # a touching pair squeezed into one digit leaves the model in doubt: the split, sure of both, wins
    doubtful = _probabilities((8, 0.55), (8, 0.99), (9, 0.98))
    assert _score([1, 2], doubtful, all_digits) > _score([0], doubtful, all_digits)


def test_a_split_wins_when_the_guard_sees_several_digits_in_the_squeezed_glyph():
    from digitcore.reading.number import _score

    # "89" touching: squeezed into one input the model reads a sure 8; only the guard can tell
    squeezed_sure = _probabilities((8, 0.999), (8, 0.99), (9, 0.985))
    assert _score([0], squeezed_sure, np.zeros(3)) > _score([1, 2], squeezed_sure, np.zeros(3))
    several = np.array([0.9, 0.01, 0.02])
    assert _score([1, 2], squeezed_sure, several) > _score([0], squeezed_sure, several)
    # and the halves of one 0, each a sure 1 to the model, lose when the guard doubts the halves
    halves = _probabilities((0, 0.99), (1, 0.995), (1, 0.995))
    assert _score([0], halves, np.array([0.01, 0.3, 0.3])) > _score([1, 2], halves, np.array([0.01, 0.3, 0.3]))


def _touching(left: np.ndarray, right: np.ndarray, overlap: int) -> np.ndarray:
    """Two digits' ink side by side, the right one moved `overlap` px into the left one's box."""
    ink = np.zeros((120, 60 + left.shape[1] + right.shape[1]), np.float32)
    ink[30 : 30 + DIGIT_HEIGHT, 30 : 30 + left.shape[1]] = left
    start = 30 + left.shape[1] - overlap
    region = ink[30 : 30 + DIGIT_HEIGHT, start : start + right.shape[1]]
    np.maximum(region, right, out=region)
    return ink


def test_two_touching_zeros_are_read_as_two_digits_and_a_wide_zero_as_one(mnist, model):
    from digitcore.reading.number import read_number

    zero = digit_ink(mnist.x_test[3])  # a 0
    assert read_number(on_paper(_touching(zero, zero, overlap=4)), model).number == "00"
    wide = np.asarray(
        Image.fromarray(zero).resize((round(1.5 * zero.shape[1]), zero.shape[0]), Image.Resampling.BILINEAR)
    )
    page = np.zeros((120, wide.shape[1] + 60), np.float32)
    page[30 : 30 + DIGIT_HEIGHT, 30 : 30 + wide.shape[1]] = wide
    assert read_number(on_paper(page), model).number == "0"


def _cut_in_two(ink: np.ndarray, gap: int) -> np.ndarray:
    """The digit's ink with a column `gap` px wide taken out of its middle: two pieces side by side,
    as a ruling or a pen lift leaves a 0."""
    middle = ink.shape[1] // 2
    return np.concatenate([ink[:, :middle], np.zeros((ink.shape[0], gap), np.float32), ink[:, middle:]], axis=1)


def test_two_pieces_of_one_digit_side_by_side_are_read_as_one_digit(mnist, model):
    from digitcore.reading.number import read_number

    zero = digit_ink(mnist.x_test[3])  # a 0
    page = np.zeros((120, zero.shape[1] + 64), np.float32)
    halves = _cut_in_two(zero, gap=3)
    page[30 : 30 + DIGIT_HEIGHT, 30 : 30 + halves.shape[1]] = halves
    assert len(find_glyphs(find_ink(on_paper(page)))) == 2, "the pieces were not apart"
    assert read_number(on_paper(page), model).number == "0"


def test_two_digits_written_close_are_not_joined(mnist, model):
    from digitcore.reading.number import read_number

    one, zero = digit_ink(mnist.x_test[2]), digit_ink(mnist.x_test[3])  # a 1 and a 0
    assert read_number(on_paper(number_page([one, zero], gap=4)), model).number == "10"


def test_only_neighbours_that_overlap_or_nearly_touch_and_fit_one_digit_may_be_one():
    from digitcore.reading.segment import may_be_one_digit

    def glyph(x, y, w, h):
        return Glyph(Box(x, y, w, h), np.ones((h, w), np.float32), np.ones((h, w), bool))

    height = 60.0
    assert may_be_one_digit(glyph(0, 0, 20, 60), glyph(24, 0, 20, 60), height)  # the halves of a 0
    assert may_be_one_digit(glyph(0, 0, 30, 60), glyph(20, 10, 15, 40), height)  # overlapping
    assert not may_be_one_digit(glyph(0, 0, 20, 60), glyph(35, 0, 20, 60), height)  # a gap: two digits
    assert not may_be_one_digit(glyph(0, 0, 40, 60), glyph(42, 0, 40, 60), height)  # too wide together
    assert not may_be_one_digit(glyph(0, 0, 20, 60), glyph(20, 70, 20, 60), height)  # stacked: two rows


def test_a_row_is_read_by_the_ways_that_together_score_best():
    from digitcore.reading.number import _best_reading, _Run
    from digitcore.reading.segment import SplitOption

    # inputs: 0 = the left piece alone, 1 = the right piece alone, 2 = the two joined
    apart, whole = SplitOption([]), SplitOption([])
    runs = [_Run(0, 0, 1, [(apart, [0])]), _Run(0, 1, 2, [(apart, [1])]), _Run(0, 0, 2, [(whole, [2])])]
    probabilities = _probabilities((1, 0.99), (1, 0.99), (0, 0.99))
    # the guard doubts the pieces (strokes, not digits): the joined reading wins
    chosen = _best_reading(runs, 2, probabilities, np.array([0.6, 0.6, 0.02]))
    assert [indices for _, indices in chosen] == [[2]]
    # the guard takes the joined pair for several digits: the pieces are read apart
    chosen = _best_reading(runs, 2, probabilities, np.array([0.01, 0.01, 0.95]))
    assert [indices for _, indices in chosen] == [[0], [1]]
    # a glyph with no way to read it (a dot) is passed over
    chosen = _best_reading([_Run(0, 0, 1, []), _Run(0, 1, 2, [(apart, [1])])], 2, probabilities, np.zeros(3))
    assert [indices for _, indices in chosen] == [[1]]


def test_a_number_on_a_coloured_band_running_diagonally_behind_it_is_read_without_the_band(mnist):
    inks = [digit_ink(mnist.x_test[i]) for i in (1, 2, 4)]  # a 2, a 1 and a 4
    ink = number_page(inks, gap=30)
    height, width = ink.shape
    rows, cols = np.mgrid[0:height, 0:width]
    band = np.abs((cols - 0.5 * width) * np.cos(0.7) + (rows - 0.5 * height) * np.sin(0.7)) < 40
    paper = np.where(band[..., None], np.array([0.62, 0.72, 0.85]), np.array([0.97, 0.96, 0.9]))
    picture = paper * (1 - ink[..., None]) + np.array([0.1, 0.15, 0.5]) * ink[..., None]
    picture += np.random.default_rng(0).normal(0, 0.03, picture.shape)  # a camera's grain: a photo
    page = find_ink(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8))
    near_digits = np.asarray(Image.fromarray(ink > 0.3).filter(ImageFilter.MaxFilter(7)))
    assert (page.mask & ~near_digits).sum() < 0.01 * band.sum(), "the band was taken for ink"
    assert (page.mask & (ink > 0.5)).sum() > 0.9 * (ink > 0.5).sum(), "the digits lost ink"
