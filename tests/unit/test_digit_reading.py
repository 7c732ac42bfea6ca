"""Tests for reading one digit (digitcore.reading.digit): a photo is prepared by the one-digit
preparation and by the page stage, and the likelier reading wins; a drawing is prepared once."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app_helpers import notebook_crop, seven_with_its_bar_on_a_ruling
from digitcore import registry
from digitcore.reading import preprocess
from digitcore.reading.digit import likelihoods, read_digit


@pytest.fixture(scope="module")
def model():
    return registry.load(None)  # the shipped default model, as Try it and `predict` use it


def _two_with_its_base_on_a_ruling(draw: ImageDraw.ImageDraw) -> None:
    draw.arc([24, 10, 44, 28], start=180, end=40, fill=255, width=2)
    draw.line([(42, 22), (22, 32), (48, 32)], fill=255, width=2)


@pytest.mark.parametrize(
    ("label", "draw_digit"), [(7, seven_with_its_bar_on_a_ruling), (2, _two_with_its_base_on_a_ruling)]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_small_notebook_crop_whose_strokes_lie_along_rulings_is_read(model, label, draw_digit, seed):
    """At the crop's own size the one-digit preparation took the 7's bar and the 2's base for
    rulings (reading a 1, or refusing the picture as blank) on three of these six crops; the page
    stage, which enlarges a small photo before telling rulings from strokes, keeps them."""
    reading = read_digit(notebook_crop(draw_digit, seed), model)
    assert reading.prediction.digit == label
    assert reading.prepared.kind == "photo"


def test_a_second_look_that_sees_the_same_digit_leaves_the_first_reading_as_it_was(model):
    """A 1 crossing a ruling in a small crop: both preparations read a 1 (the page stage's input even
    looks a little more like one digit to the guard), so the first stands, its input, steps and
    the guard's verdict on them: a second look never merely picks the less doubtful of two views."""
    crop = notebook_crop(lambda draw: draw.line([(34, 12), (30, 44)], fill=255, width=3), 0)
    reading = read_digit(crop, model)
    assert reading.prediction.digit == 1 and not reading.by_page_stage
    assert np.array_equal(reading.prepared.image, preprocess.to_mnist(crop).image)


def test_a_drawing_is_prepared_once_as_before(model):
    canvas = np.zeros((140, 140, 4), dtype=np.uint8)
    stroke = Image.new("L", (140, 140), 0)
    ImageDraw.Draw(stroke).line([(40, 30), (100, 30), (60, 120)], fill=255, width=10)
    canvas[..., 3] = np.asarray(stroke)
    reading = read_digit(canvas, model, kind="canvas")
    assert not reading.by_page_stage
    assert np.array_equal(reading.prepared.image, preprocess.to_mnist(canvas, kind="canvas").image)
    assert reading.prediction.digit == 7


def test_the_page_stages_steps_are_shown_when_its_reading_is_chosen(model):
    """On this crop the one-digit preparation erases the 7's bar with the ruling (a 1): the page
    stage's reading is chosen, and the steps strip shows what the page stage kept and dropped."""
    reading = read_digit(notebook_crop(seven_with_its_bar_on_a_ruling, 0), model)
    assert reading.by_page_stage
    names = [step.name for step in reading.prepared.steps]
    assert names[:3] == ["grayscale", "dropped", "kept"] and names[-1] == "centre"


def test_a_reading_the_guard_doubts_loses_to_a_slightly_less_sure_one_it_does_not():
    probabilities = np.array([[0.0] * 9 + [0.99], [0.0] * 9 + [0.95]])
    probabilities[:, 0] = 1.0 - probabilities[:, 9]
    doubted_first = likelihoods(probabilities, np.array([0.6, 0.01]))
    assert doubted_first[1] > doubted_first[0]
    neither_doubted = likelihoods(probabilities, np.array([0.01, 0.01]))
    assert neither_doubted[0] > neither_doubted[1]


def test_a_photo_the_first_preparation_finds_blank_is_read_from_the_page_stage(model, monkeypatch):
    """Seen on small, faint notebook crops (a blue 6 between rulings refused as "no marks that stand
    out from the paper"): when the page stage finds a digit, it is read; a drawing from the pad that
    the first preparation finds blank stays refused."""

    def refuses(image, kind="auto"):
        raise preprocess.NoDigitFound("No digit found: the photo shows no marks that stand out from the paper.")

    crop = notebook_crop(seven_with_its_bar_on_a_ruling, 0)
    monkeypatch.setattr(preprocess, "to_mnist", refuses)
    reading = read_digit(crop, model)
    assert reading.by_page_stage and reading.prediction.digit == 7
    with pytest.raises(preprocess.NoDigitFound, match="stand out"):
        read_digit(crop, model, kind="canvas")
