"""Reading one digit: the one-digit preparation, and for an uploaded picture it may have got wrong,
the page stage's reading beside it.

An uploaded picture of one digit can be prepared two ways: by the one-digit preparation
(digitcore.reading.preprocess, tuned over many rounds on drawings and photos) and from the page
stage the number reader starts from (digitcore.reading.page: all the ink it keeps as the digits',
fitted as one digit). The two fail on different pictures. The one-digit preparation works at the
picture's own size, so on a small crop of a notebook (rulings as thick as the pen) it keeps rulings
as ink or erases strokes lying along them; the page stage enlarges small pictures and finds their
rulings, but keeps a table's edge or a shadow's piece that the one-digit preparation drops. So the
page stage looks again when the first reading is unsure (less likely than SURE) or the picture is
small (where the first preparation is weakest, and a second look is cheap); both inputs then go
through the model and the not-a-digit guard, and when they read different digits the likelier
reading wins: the model's probability for its answer times the guard's chance that the input is
one digit, the score by which the number reader chooses between ways of cutting a glyph. Drawings
from the pad and MNIST crops are prepared once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitcore import inference, not_a_digit
from digitcore.reading import preprocess
from digitcore.reading.page import MIN_PAGE_SIDE, PageInk, find_ink
from digitcore.reading.preprocess import NoDigitFound, Preprocessed, Step

SURE = 0.9  # a first reading at least this likely (see likelihoods), of a picture not small, is not looked at again


@dataclass(frozen=True)
class DigitReading:
    """One digit read from a picture: the input read, how it was made, and the model's answer."""

    prepared: Preprocessed  # the chosen input and its steps
    prediction: inference.Prediction
    not_a_digit_score: float | None  # the guard's score of the chosen input; None when it is not installed
    doubtful: bool  # the guard doubts the input read is one digit (after a second look that changed the answer: either)
    by_page_stage: bool  # the page stage's preparation was read
    likelihood: float  # how likely the reading is, as a logarithm (see likelihoods)


def read_digit(image: Image.Image | np.ndarray, model, kind: str = "auto") -> DigitReading:
    """Read the one digit of a drawing, a photo or an MNIST-like crop with `model`.

    Accepts what preprocess.to_mnist accepts and raises what it raises. A picture uploaded (kind
    "auto" or "photo", not an MNIST crop) whose first reading is unsure, or that is small, is read
    from the page stage's ink too, and when the two read different digits the likelier wins (see the
    module docstring); one that the one-digit preparation finds blank is read by the page stage
    alone when it finds a digit.
    """
    may_look_again = kind == "photo" or kind == "auto"
    try:
        first = preprocess.to_mnist(image, kind=kind)
    except NoDigitFound:
        second = page_digit(image) if may_look_again else None
        if second is None:
            raise
        return _read(second, True, model)
    reading = _read(first, False, model)
    if not may_look_again or first.kind == "mnist" or (reading.likelihood >= np.log(SURE) and not _small(image)):
        return reading
    second = page_digit(image)
    if second is None:
        return reading
    other = _read(second, True, model)
    # The page stage's reading replaces the first only when it is likelier and sees another digit:
    # when both see the same one, the first stands as it was (its input, its steps, the guard's
    # verdict on them), so a second look never merely picks the less doubtful of two views of a
    # letter or a scribble. When they disagree, the guard's doubt about either view stands: the
    # picture is not plainly one digit.
    if other.likelihood <= reading.likelihood or other.prediction.digit == reading.prediction.digit:
        return reading
    return dataclasses.replace(other, doubtful=other.doubtful or reading.doubtful)


def _read(prepared: Preprocessed, by_page_stage: bool, model) -> DigitReading:
    """The model's and the guard's reading of one prepared input."""
    batch = prepared.image[None]
    probabilities = inference.predict(model, batch)
    not_digit, doubt_from = not_digit_scores(batch)
    return DigitReading(
        prepared=prepared,
        prediction=inference.to_prediction(probabilities[0]),
        not_a_digit_score=float(not_digit[0]) if np.isfinite(doubt_from) else None,
        doubtful=bool(not_digit[0] >= doubt_from),
        by_page_stage=by_page_stage,
        likelihood=float(likelihoods(probabilities, not_digit)[0]),
    )


def _small(image: Image.Image | np.ndarray) -> bool:
    """Whether the page stage enlarges the picture (see page.MIN_PAGE_SIDE)."""
    height, width = (image.height, image.width) if isinstance(image, Image.Image) else image.shape[:2]
    return max(height, width) < MIN_PAGE_SIDE


def page_digit(image: Image.Image | np.ndarray) -> Preprocessed | None:
    """All the ink the page stage keeps as the digits', prepared as one digit (its steps: the page
    stage's, then the fit), of the kind the page stage took the picture for; None when it finds no digit."""
    try:
        page = find_ink(image)
        steps = page_steps(page)
        digit = preprocess.fit_and_centre(page.ink, page.mask, steps)
    except NoDigitFound:
        return None
    return Preprocessed(image=digit, steps=steps, kind="photo" if page.photo else "canvas")


def likelihoods(probabilities: np.ndarray, not_digit: np.ndarray) -> np.ndarray:
    """How likely each input's reading is, as a logarithm: the model's probability for its answer
    times the chance that the input is one digit at all (1 - the not-a-digit guard's score).

    The digit model must answer a digit for anything, and it is often sure of two touching digits
    squeezed into one input, of the pieces of one digit, or of a digit with a ruling left in it; its
    confidence cannot tell these apart. The guard was trained for exactly that question (several
    digits, strokes and scribbles against single digits), on other data than any page.
    """
    surest = np.log(np.maximum(probabilities.max(axis=1), 1e-6))
    one_digit = np.log(np.maximum(1.0 - not_digit, 1e-6))
    return surest + one_digit


def not_digit_scores(inputs: np.ndarray) -> tuple[np.ndarray, float]:
    """The not-a-digit guard's score of each input and the score from which it doubts a digit; all 0
    and never (the choice then rests on the digit model alone) when the guard's file is missing, as
    reading goes on without it."""
    try:
        return not_a_digit.scores(inputs), not_a_digit.threshold()
    except not_a_digit.GuardUnavailable:
        return np.zeros(len(inputs)), float("inf")


def page_steps(page: PageInk) -> list[Step]:
    """What the page stage saw and did, for the steps strip: the grayscale, what was dropped, what was kept."""
    dropped = np.where(page.lines | page.dropped, 1.0, 0.0).astype(np.float32)
    return [
        Step("grayscale", "Grayscale", preprocess._to_step_image(page.gray)),
        Step("dropped", "Dropped as lines, edges and specks", preprocess._to_step_image(dropped)),
        Step("kept", "Kept as the digits' ink", preprocess._to_step_image(page.ink)),
    ]
