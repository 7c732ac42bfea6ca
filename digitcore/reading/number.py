"""Reading a whole number: the page stage, the glyphs cut into digits, each digit through the model.

Each digit is prepared exactly as one-digit reading prepares its ink (digitcore.reading.preprocess.fit_and_centre:
a 20x20 fit, centred by mass in 28x28) and all digits go through the model in one compiled call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from PIL import Image

from digitcore import inference
from digitcore.reading import preprocess
from digitcore.reading.digit import likelihoods, not_digit_scores, page_steps
from digitcore.reading.page import Box, PageInk, find_ink
from digitcore.reading.preprocess import NoDigitFound, Step
from digitcore.reading.segment import (
    PART_HEIGHT,
    Glyph,
    SplitOption,
    find_glyphs,
    joined,
    may_be_one_digit,
    order_rows,
    split_options,
)

MAX_ROWS = 2  # a number is written in one row, a long one (a phone number) sometimes in two


@dataclass
class ReadDigit:
    """One digit of a number as the model read it."""

    digit: int
    confidence: float  # probability of `digit`
    probabilities: list[float]  # ten, summing to 1
    unsure: bool  # confidence below inference.UNSURE_THRESHOLD
    box: Box  # where the digit is, in the pixels of the image as given
    row: int  # 0 for the top row
    image: np.ndarray  # (28, 28) float32: the model input
    doubtful: bool = False  # the not-a-digit guard doubts this is one digit (False when the guard is missing)
    glyph: Glyph | None = None  # the digit's ink in the page stage's pixels: its steps are drawn from it

    @cached_property
    def steps(self) -> list[Step]:
        """This digit's ink, ink box, fit and centring, for the steps strip: drawn only when shown (a
        reading tries many ways to cut each glyph; only the chosen digits' steps are ever looked at)."""
        if self.glyph is None:
            return []
        steps = [Step("digit", "This digit's ink", preprocess._to_step_image(self.glyph.ink))]
        preprocess.fit_and_centre(self.glyph.ink, self.glyph.mask, steps)
        return steps


@dataclass
class NumberReading:
    """The digits of one image, rows top to bottom, each row left to right."""

    digits: list[ReadDigit]  # in reading order
    rows: list[str]  # each row's digits as text
    page: PageInk  # what the page stage kept and dropped

    @property
    def number(self) -> str:
        """The rows joined by one space: "2026", "12345 67890"."""
        return " ".join(self.rows)

    @cached_property
    def steps(self) -> list[Step]:
        """The page's steps (grayscale, lines dropped, ink kept), drawn only when shown: the CLI and
        the benches never look at them."""
        return page_steps(self.page)


def read_number(image: Image.Image | np.ndarray, model, *, max_rows: int = MAX_ROWS) -> NumberReading:
    """Read the number in a drawing or a photo: its digits, boxes, probabilities and model inputs.

    Accepts what preprocess.to_mnist accepts. Raises preprocess.NoDigitFound when no digit is found
    and the other preprocess.ImageError subclasses for unusable images, with a sentence to show.
    Every way of reading every glyph (unsplit, split in two or three) goes through the model in one
    call, and through the not-a-digit guard in another; per glyph, the reading whose parts are most
    likely digits, and digits the model is surest of, wins (see _score).
    """
    page = find_ink(image)
    rows = order_rows(find_glyphs(page), max_rows)
    inputs: list[np.ndarray] = []
    # the ways to read each run of glyphs in a row: one glyph (whole, or split in two or three), or
    # two neighbours joined as the pieces of one digit; each way as (the option, its parts' inputs)
    runs: list[_Run] = []
    for row_index, row in enumerate(rows):
        height = float(np.median([glyph.box.h for glyph in row]))
        for first, glyph in enumerate(row):
            runs.append(_Run(row_index, first, first + 1, _ways_to_read(glyph, height, len(row) > 1, inputs)))
            if first + 1 < len(row) and may_be_one_digit(glyph, row[first + 1], height):
                whole = SplitOption([joined([glyph, row[first + 1]])])
                indices = _prepare(whole, inputs)
                if indices is not None:
                    runs.append(_Run(row_index, first, first + 2, [(whole, indices)]))
    if not inputs:
        raise NoDigitFound(
            "No digit found: the picture shows only specks or dots. Draw or photograph the digits larger."
        )
    batch = np.stack(inputs)  # one array for both models
    probabilities = inference.predict(model, batch)
    not_digit, doubt_from = not_digit_scores(batch)
    digits: list[ReadDigit] = []
    for row_index, row in enumerate(rows):
        chosen = _best_reading([run for run in runs if run.row == row_index], len(row), probabilities, not_digit)
        for option, indices in chosen:
            for part, index in zip(option.parts, indices):
                prediction = inference.to_prediction(probabilities[index])
                digits.append(
                    ReadDigit(
                        digit=prediction.digit,
                        confidence=prediction.confidence,
                        probabilities=prediction.probabilities,
                        unsure=prediction.unsure,
                        box=page.to_original(part.box),
                        row=row_index,
                        image=inputs[index],
                        doubtful=bool(not_digit[index] >= doubt_from),
                        glyph=part,
                    )
                )
    row_count = max((digit.row for digit in digits), default=-1) + 1
    texts = ["".join(str(d.digit) for d in digits if d.row == row) for row in range(row_count)]
    return NumberReading(digits=digits, rows=[text for text in texts if text], page=page)


@dataclass
class _Run:
    """Glyphs `first` to `stop` - 1 of row `row`, and the ways to read them as digits."""

    row: int
    first: int
    stop: int
    ways: list[tuple[SplitOption, list[int]]]  # (the option, the index of each part's input)


def _ways_to_read(glyph: Glyph, height: float, in_a_number: bool, inputs: list[np.ndarray]) -> list:
    """The ways to read one glyph of a row whose digits are `height` tall (whole, or split), each part's
    input appended to `inputs`; none when the glyph is only a dot."""
    # a glyph as tall as the digits beside it is a digit, not a dot, even when it looks like a blob
    beside_digits = in_a_number and glyph.box.h >= PART_HEIGHT * height
    ways = []
    for option in split_options(glyph, height):
        indices = _prepare(option, inputs)
        if indices is None and len(option.parts) == 1 and beside_digits:
            option = SplitOption([_outlined(glyph)])
            indices = _prepare(option, inputs)
        if indices is not None:  # else a part is only a dot: not a way to read this glyph
            ways.append((option, indices))
    return ways


def _best_reading(
    runs: list[_Run], glyph_count: int, probabilities: np.ndarray, not_digit: np.ndarray
) -> list[tuple[SplitOption, list[int]]]:
    """The most likely reading of a row (see _score): the best way to read each run, and the runs
    that cover the row's glyphs once, left to right, whose ways together score highest.

    A glyph with no way to read it (a dot) is passed over. Two neighbours read as one digit compete
    with the two read apart, each reading paying for every digit it makes with its own probability.
    """
    best: dict[int, tuple[float, list]] = {0: (0.0, [])}
    for stop in range(1, glyph_count + 1):
        candidates = []
        for run in runs:
            if run.stop != stop or run.first not in best:
                continue
            score, chosen = best[run.first]
            if not run.ways:
                candidates.append((score, chosen))
                continue
            way = max(run.ways, key=lambda choice: _score(choice[1], probabilities, not_digit))
            candidates.append((score + _score(way[1], probabilities, not_digit), chosen + [way]))
        best[stop] = max(candidates, key=lambda candidate: candidate[0])
    return best[glyph_count][1]


def _score(indices: list[int], probabilities: np.ndarray, not_digit: np.ndarray) -> float:
    """How likely a reading of a glyph is: the product, over its parts, of the chance that the part is
    one digit at all (1 - the not-a-digit guard's score) and the probability of the model's answer
    for it (as a sum of logarithms).

    Each digit a split makes must pay for itself with its own probability, so a confident one-digit
    reading beats a split into two that are each a little less sure (the left end of a wide 2 cut off
    reads as a 5, surely but not quite), and a split wins when the glyph squeezed into one digit
    leaves the model in doubt. The mean (not the product) would let a split into pieces as sure as
    the whole win, and pieces of one digit often are. (The model is often sure of two touching digits
    squeezed into one input, an "89" as an 8, and of the halves of a 0 as 1s: see
    digitcore.reading.digit.likelihoods for why the guard's word is in the score.)
    """
    return float(likelihoods(probabilities[indices], not_digit[indices]).sum())


def _prepare(option: SplitOption, inputs: list[np.ndarray]) -> list[int] | None:
    """Each part's model input appended to `inputs`; their indices, or None (and nothing appended)
    when a part is a dot or a blob to the one-digit preparation."""
    start = len(inputs)
    try:
        for part in option.parts:
            inputs.append(preprocess.fit_and_centre(part.ink, part.mask))
    except NoDigitFound:
        del inputs[start:]
        return None
    return list(range(start, len(inputs)))


def _outlined(glyph: Glyph) -> Glyph:
    """A glyph that the one-digit preparation took for a dot or a blob, with its outline as its mask.

    Beside other digits and as tall as they are, such a glyph is a digit drawn small with a thick pen
    whose loops filled in (an 8 in a 28-px picture). The outline has the same box as the glyph, so
    the same ink is fitted, but its stroke is measured on a line, not on the filled loops.
    """
    inner = cv2.erode(glyph.mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderValue=0).astype(bool)
    return Glyph(glyph.box, glyph.ink, glyph.mask & ~inner)
