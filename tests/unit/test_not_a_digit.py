"""The not-a-digit guard: it flags generated letters, symbols and scribbles in fonts and seeds it was
not trained on, leaves real MNIST test digits alone, and reaches predict's output."""

import json
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import digitcore
from digitcore import non_digits, not_a_digit
from digitcore.reading import preprocess

PROJECT = Path(digitcore.__file__).resolve().parents[1]
TEST_FONTS = ("Liberation",)  # the guard was trained on DejaVu only
TEST_STYLE = non_digits.StrokeStyle(size=(70, 110), stroke=(-1, 5), rotation=12.0, shear=0.25)


def _inputs(make, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = []
    while len(images) < count:
        try:
            images.append(non_digits.to_model_input(make(rng)))
        except preprocess.NoDigitFound:  # the product itself would refuse it: not the guard's job
            continue
    return np.stack(images)


@pytest.fixture(scope="module")
def fonts() -> list[Path]:
    found = non_digits.font_files(*TEST_FONTS)
    if not found:
        pytest.fail("The Liberation fonts are not installed (apt-get install fonts-liberation).")
    return found


def _letter(fonts):
    letters = [letter for letter in string.ascii_uppercase if letter not in "OI"]  # O and I are 0 and 1
    return lambda rng: non_digits.glyph(
        letters[rng.integers(len(letters))], fonts[rng.integers(len(fonts))], rng, TEST_STYLE
    )


@pytest.mark.parametrize(
    "kind, at_least",
    [
        ("letters", 0.80),  # A-Z without O and I, in fonts the guard never saw
        ("scribbles", 0.80),  # wandering lines, zigzags and hatching
        ("several digits", 0.80),  # two or three MNIST test digits side by side
    ],
)
def test_most_non_digits_are_flagged(fonts, mnist, kind, at_least):
    makers = {
        "letters": _letter(fonts),
        "scribbles": lambda rng: non_digits.scribble(rng, brush=(3, 16)),
        "several digits": lambda rng: non_digits.digit_row(
            [mnist.x_test[rng.integers(10000)] for _ in range(rng.integers(2, 4))], rng
        ),
    }
    verdicts = not_a_digit.check_many(_inputs(makers[kind], 200, seed=4242))
    flagged = np.mean([verdict.not_a_digit for verdict in verdicts])
    assert flagged >= at_least, f"only {flagged:.1%} of {kind} flagged"


def test_real_mnist_test_digits_are_rarely_flagged(mnist):
    verdicts = not_a_digit.check_many(mnist.x_test[:2000].astype(np.float32) / 255.0)
    flagged = np.mean([verdict.not_a_digit for verdict in verdicts])
    assert flagged <= 0.03, f"{flagged:.1%} of real digits flagged"
    assert all(0.0 <= verdict.score <= 1.0 and verdict.threshold == not_a_digit.threshold() for verdict in verdicts)


def test_check_gives_one_verdict_and_refuses_other_shapes(mnist):
    verdict = not_a_digit.check(mnist.x_test[0].astype(np.float32) / 255.0)
    assert isinstance(verdict, not_a_digit.Verdict) and verdict.not_a_digit is False
    with pytest.raises(ValueError, match="28x28"):
        not_a_digit.check(np.zeros((28, 27), np.float32))


def test_the_guard_is_shipped_outside_the_model_picker():
    from digitcore import registry

    assert not_a_digit.GUARD_PATH.is_file() and not_a_digit.GUARD_PATH.stat().st_size < 2 * 2**20
    assert not_a_digit.GUARD_PATH.parent != registry.models_dir()
    card = json.loads(not_a_digit.CARD_PATH.read_text())
    assert 0.5 <= card["threshold"] < 1 and card["held_out"]["digits_flagged"] <= 0.01


@pytest.mark.slow
def test_predict_says_not_a_digit_and_still_gives_the_digit(tmp_path, fonts):
    drawing = non_digits.glyph("A", fonts[0], np.random.default_rng(0), non_digits.StrokeStyle(rotation=0, shear=0))
    letter = tmp_path / "letter_a.png"
    Image.fromarray(255 - drawing).save(letter)  # dark ink on white, as a scan or a photo
    result = subprocess.run(
        [sys.executable, "-m", "digitcore", "predict", str(letter)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=300,
    )
    answer = json.loads(result.stdout.splitlines()[0])
    assert answer["not_a_digit"] is True and 0 <= answer["digit"] <= 9 and answer["not_a_digit_score"] >= 0.5
