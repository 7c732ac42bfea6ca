"""Try it's "A number" in AppTest (issue 26): the number in large type and a box per digit, each
digit's confidence, a click on a digit opens its reading, and each digit is corrected and saved on its own."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from app_helpers import (
    NUMBER_ACROSS,
    NUMBER_PAD_KEY,
    PAD_KEY,
    TWELVE,
    canvas_value,
    number_strokes,
    pad_data,
    photo_of_digit,
)
from app_pages import number_view
from digitcore import samples
from digitcore.reading.number import ReadDigit
from digitcore.reading.page import Box


@pytest.fixture
def store(app_workspace) -> samples.SampleStore:
    """The AppTest visitor's own sample store (empty at the start of each test)."""
    app_workspace.samples_path.parent.mkdir(parents=True, exist_ok=True)
    return samples.SampleStore(app_workspace.samples_path)


def _metric(app, label: str) -> str | None:
    return next((metric.value for metric in app.metric if metric.label == label), None)


def _guard_warnings(app) -> list[str]:
    return [element.value for element in app.warning if "single digit" in element.value]


def _number_mode(open_page):
    app = open_page("try_it")
    app.radio(key="try_reading").set_value("A number").run()
    return app


def _draw_number(app, number: str) -> None:
    app.session_state[NUMBER_PAD_KEY] = canvas_value(number_strokes(number), across=NUMBER_ACROSS)
    app.run()


@pytest.mark.parametrize("number", ["47", "2026"])
def test_a_drawn_number_is_read_whole_with_a_box_and_a_confidence_per_digit(open_page, number):
    app = _number_mode(open_page)
    assert pad_data(app)["width"] == NUMBER_ACROSS  # a pad wide enough for several digits
    _draw_number(app, number)
    assert not app.exception
    assert _metric(app, "Number") == number
    assert _metric(app, "Prediction") is None  # no digit is opened before a click
    assert not _guard_warnings(app)  # a row of digits is what this mode reads
    (picture,) = [image for image in app.image if "digit(s) found" in image.captions[0]]
    assert picture.captions[0].startswith(f"{len(number)} digit(s) found in 1 row(s)")
    (choice,) = app.pills
    shown = [re.fullmatch(r"(\d) · (\d{1,3}) %( \?)?", text) for text in choice.options]
    assert all(shown), choice.options  # "4 · 98 %", a guess marked "7 · 52 % ?"
    assert "".join(match.group(1) for match in shown) == number  # one choice per digit, in order


def test_a_click_on_a_digit_opens_its_reading_and_saves_it_on_its_own(open_page, store):
    app = _number_mode(open_page)
    _draw_number(app, "47")
    app.pills[0].set_value(1).run()  # the 7
    assert not app.exception
    assert _metric(app, "Prediction") == "7"
    assert "The 2nd digit" in " ".join(element.value for element in app.markdown)
    captions = [caption for image in app.image for caption in image.captions]
    assert any("model input" in caption.lower() for caption in captions)  # its steps strip
    assert {chart.proto.id for chart in app.get("plotly_chart")}  # probabilities and saliency
    assert len(app.get("plotly_chart")) == 2
    app.selectbox(key="teach_label_1").set_value(1).run()  # "wrong, it is a 1"
    app.button(key="teach_save_1").click().run()
    (saved,) = store.list(with_originals=True)
    assert (saved.label, saved.predicted, saved.source) == (1, 7, "canvas")
    original = Image.open(io.BytesIO(saved.original_png))
    assert original.width < NUMBER_ACROSS / 2  # the 7's own box, not the whole number
    app.pills[0].set_value(0).run()  # the 4, saved as it was read
    app.button(key="teach_save_0").click().run()
    assert sorted((sample.label, sample.predicted) for sample in store.list()) == [(1, 7), (4, 4)]


def test_twelve_drawn_as_one_digit_is_doubted_then_read_as_a_number(open_page):
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(TWELVE)  # "12" on the one-digit pad
    app.run()
    assert len(_guard_warnings(app)) == 1  # one digit: "12" is not a single digit
    app.radio(key="try_reading").set_value("A number").run()
    assert not app.exception
    assert len(pad_data(app)["restore"]["strokes"]) == 2  # the drawing came along to the number pad
    assert _metric(app, "Number") == "12"
    assert not _guard_warnings(app)


def test_an_uploaded_photo_of_a_number_is_read(open_page):
    app = _number_mode(open_page)
    app.radio(key="try_source").set_value("Upload a photo").run()
    photo = photo_of_digit(number_strokes("47"), size=(NUMBER_ACROSS, 280), ink_width=14)
    app.get("file_uploader")[0].set_value(("forty-seven.jpg", photo, "image/jpeg")).run()
    assert not app.exception
    assert _metric(app, "Number") == "47"
    assert "Read from **forty-seven.jpg**." in " ".join(element.value for element in app.caption)


def test_an_unsure_digit_is_marked_in_its_choice():
    def read(digit: int, confidence: float, unsure: bool) -> ReadDigit:
        probabilities = np.full(10, (1 - confidence) / 9)
        probabilities[digit] = confidence
        return ReadDigit(
            digit, confidence, probabilities.tolist(), unsure, Box(0, 0, 10, 10), 0, np.zeros((28, 28), np.float32)
        )

    assert number_view._digit_choice(read(4, 0.981, False), False) == "4 · 98 %"
    assert number_view._digit_choice(read(7, 0.52, True), False) == "7 · 52 % ?"
    assert number_view._digit_choice(read(1, 0.99, False), True) == "1 · 99 % ?"  # doubted by the guard


def test_a_new_number_with_fewer_digits_after_a_click_on_a_later_one(open_page):
    app = _number_mode(open_page)
    _draw_number(app, "2026")
    app.pills[0].set_value(3).run()  # the 6 is open
    assert _metric(app, "Prediction") == "6"
    _draw_number(app, "47")  # a new number without a 4th digit
    assert not app.exception
    assert _metric(app, "Number") == "47"


def test_a_correction_picked_for_one_number_is_not_kept_for_the_next(open_page, store):
    app = _number_mode(open_page)
    _draw_number(app, "47")
    app.pills[0].set_value(1).run()
    app.selectbox(key="teach_label_1").set_value(1).run()  # "the 7 is a 1", not saved
    _draw_number(app, "2026")  # a new number: its 2nd digit is a 0, not the 7 corrected above
    assert not app.exception
    assert app.selectbox(key="teach_label_1").value is None
    app.button(key="teach_save_1").click().run()
    assert [(sample.label, sample.predicted) for sample in store.list()] == [(0, 0)]
