"""Drawing on Try it in a real Chromium, at a person's pace: no stroke is ever lost.

Every test draws each stroke exactly once. After the app settles it checks what a person sees:
the prediction is the digit drawn, the caption counts every stroke, the steps strip's first image
holds the ink that is on the pad (every stroke of it), and there is exactly one pad on the page.
"""

import pytest
from playwright.sync_api import expect

from app_helpers import FOUR, MULTI_STROKE_DIGITS, ONE, SEVEN, THREE_IN_TWO
from browser_steps import clear, draw, ink_overlap, open_app_page, pad, prediction, read_from, settle, sidebar_link

pytestmark = pytest.mark.e2e

SAME_INK = 0.9  # intersection over union of pad ink and read ink; a lost stroke of a 4 or 3 gives about 0.5


def assert_read_whole(page, digit: int, strokes: int) -> None:
    """After the app settles: the reading counts every stroke, names the digit, and saw the pad's ink."""
    expect(read_from(page, strokes)).to_be_visible()
    settle(page)
    expect(read_from(page, strokes)).to_be_visible()  # still so once every rerun has landed
    expect(prediction(page)).to_have_text(str(digit))
    expect(pad(page)).to_have_count(1)
    overlap = ink_overlap(page)
    assert overlap >= SAME_INK, f"the app read other ink than the pad shows (overlap {overlap:.2f})"


@pytest.fixture
def try_it(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1400})
    open_app_page(page, app_url, "try_it")
    expect(page.get_by_text("Draw a digit on the canvas")).to_be_visible()
    return page


@pytest.mark.parametrize("pause", [0.1, 0.3, 1.0])  # seconds between strokes: quick, usual, slow
def test_digits_drawn_in_several_strokes_are_read_whole(try_it, pause):
    for number, (digit, strokes) in enumerate(MULTI_STROKE_DIGITS.values()):  # 4, barred 7, 5 flag last, 1 with base, 3
        if number:
            clear(try_it)
        draw(try_it, strokes, pause=pause)
        assert_read_whole(try_it, digit, len(strokes))


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3])  # seconds from Clear to the next stroke
def test_clear_then_draw_at_once_keeps_every_stroke(try_it, delay):
    draw(try_it, [ONE[0]])
    expect(read_from(try_it, 1)).to_be_visible()
    settle(try_it)
    clear(try_it)
    if delay:
        try_it.wait_for_timeout(delay * 1000)
    draw(try_it, FOUR, pause=0.1)  # no waiting for the Clear's rerun: a person does not wait either
    assert_read_whole(try_it, 4, len(FOUR))


def test_ten_draw_and_clear_rounds_on_one_page(try_it):
    for round_number in range(10):
        digit, strokes = (4, FOUR) if round_number % 2 == 0 else (3, THREE_IN_TWO)
        if round_number:
            clear(try_it)
        draw(try_it, strokes, pause=0.15)
        assert_read_whole(try_it, digit, len(strokes))


def test_pen_width_and_draw_upload_switch_keep_the_drawing(try_it):
    draw(try_it, [FOUR[0]])
    expect(read_from(try_it, 1)).to_be_visible()
    try_it.get_by_label("Pen width").fill("34")  # a wider pen for the next stroke only
    draw(try_it, [FOUR[1]])
    assert_read_whole(try_it, 4, 2)
    try_it.get_by_text("Upload a photo", exact=True).click()
    settle(try_it)
    expect(pad(try_it)).to_have_count(0)
    try_it.get_by_text("Draw", exact=True).click()
    assert_read_whole(try_it, 4, 2)  # the pad came back with both strokes, and they are read


def test_the_drawing_is_still_there_after_visiting_another_page(try_it, app_url):
    draw(try_it, SEVEN)
    assert_read_whole(try_it, 7, 1)
    sidebar_link(try_it, "Explore the data").click()
    expect(try_it.get_by_role("heading", name="Explore the data", exact=True)).to_be_visible()
    settle(try_it)
    try_it.go_back()  # the browser's Back, as a person would
    expect(try_it.get_by_role("heading", name="Try it", exact=True)).to_be_visible()
    assert_read_whole(try_it, 7, 1)
    draw(try_it, [[(100, 150), (200, 150)]])  # a bar across: the kept drawing goes on from where it was
    assert_read_whole(try_it, 7, 2)
