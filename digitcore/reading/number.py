"""Reading a whole number: the page stage, the glyphs cut into digits, each digit through the model.

Each digit is prepared exactly as one-digit reading prepares its ink (digitcore.reading.preprocess.fit_and_centre:
a 20x20 fit, centred by mass in 28x28) and all digits go through the model in one compiled call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from digitcore import inference
from digitcore.reading import preprocess
from digitcore.reading.page import Box, PageInk, find_ink
from digitcore.reading.preprocess import NoDigitFound, Step
from digitcore.reading.segment import Glyph, SplitOption, find_glyphs, order_rows, split_options

MAX_ROWS = 2  # a number is written in one row, a long one (a phone number) sometimes in two
# How wide one digit is, in digit heights, when a row has too few glyphs to tell (and at least).
TYPICAL_WIDTH = 0.75
NARROWEST = 0.6
# A glyph this many times as wide as the row's digits is probably several; reading it as one costs
# WIDTH_COST (in mean log-probability) per digit width of excess, and each digit a split makes
# beyond what the width says costs SPLIT_COST: one wide digit cut in two can still look like two.
ONE_DIGIT_WIDTH = 1.5
WIDTH_COST = 3.0
SPLIT_COST = 0.5


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
    steps: list[Step] = field(default_factory=list)  # this digit's crop, fit and centring, for display


@dataclass
class NumberReading:
    """The digits of one image, rows top to bottom, each row left to right."""

    digits: list[ReadDigit]  # in reading order
    rows: list[str]  # each row's digits as text
    page: PageInk  # what the page stage kept and dropped
    steps: list[Step] = field(default_factory=list)  # the page's steps (grayscale, ink, lines dropped)

    @property
    def number(self) -> str:
        """The rows joined by one space: "2026", "12345 67890"."""
        return " ".join(self.rows)


def read_number(image: Image.Image | np.ndarray, model, *, max_rows: int = MAX_ROWS) -> NumberReading:
    """Read the number in a drawing or a photo: its digits, boxes, probabilities and model inputs.

    Accepts what preprocess.to_mnist accepts. Raises preprocess.NoDigitFound when no digit is found
    and the other preprocess.ImageError subclasses for unusable images, with a sentence to show.
    Every way of reading every glyph (unsplit, split in two or three) goes through the model in one
    call; per glyph, the reading whose digits the model is surest of wins.
    """
    page = find_ink(image)
    rows = order_rows(find_glyphs(page), max_rows)
    inputs: list[np.ndarray] = []
    # per glyph: its options, each as (the option, the index of each part's input, each part's steps)
    choices: list[tuple[int, Glyph, float, list[tuple[SplitOption, list[int], list[list[Step]]]]]] = []
    for row_index, row in enumerate(rows):
        height = float(np.median([glyph.box.h for glyph in row]))
        width = _digit_width(row, height)
        for glyph in row:
            prepared = []
            for option in split_options(glyph, height):
                indices, steps = [], []
                try:
                    for part in option.parts:
                        part_steps = [Step("digit", "This digit's ink", preprocess._to_step_image(part.ink))]
                        inputs.append(preprocess.fit_and_centre(part.ink, part.mask, part_steps))
                        indices.append(len(inputs) - 1)
                        steps.append(part_steps)
                except NoDigitFound:
                    continue  # a part that is only a dot: not a way to read this glyph
                prepared.append((option, indices, steps))
            if prepared:
                choices.append((row_index, glyph, width, prepared))
    if not inputs:
        raise NoDigitFound(
            "No digit found: the picture shows only specks or dots. Draw or photograph the digits larger."
        )
    probabilities = inference.predict(model, np.stack(inputs))
    digits: list[ReadDigit] = []
    for row_index, glyph, width, prepared in choices:
        option, indices, steps = max(prepared, key=lambda choice: _score(choice[1], probabilities, glyph, width))
        for part, index, part_steps in zip(option.parts, indices, steps):
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
                    steps=part_steps,
                )
            )
    row_count = max((digit.row for digit in digits), default=-1) + 1
    texts = ["".join(str(d.digit) for d in digits if d.row == row) for row in range(row_count)]
    return NumberReading(digits=digits, rows=[text for text in texts if text], page=page, steps=page_steps(page))


def _digit_width(row: list[Glyph], height: float) -> float:
    """How wide one digit of this row is: the median glyph width when the row has enough glyphs to
    say (sprawling handwriting is wide throughout; a touching pair is wide against its neighbours),
    else a typical digit's width for the row's height; never narrower than NARROWEST (a row of 1s)."""
    if len(row) >= 3:
        typical = float(np.median([glyph.box.w for glyph in row]))
    else:
        typical = TYPICAL_WIDTH * height
    return max(typical, NARROWEST * height, 1.0)


def _score(indices: list[int], probabilities: np.ndarray, glyph: Glyph, digit_width: float) -> float:
    """How much a reading looks like digits: the mean log-probability of each part's answer, less a
    cost for a shape that the reading makes unlikely.

    The model's word alone cannot settle it: squeezed into 20x20, two touching digits can look like
    one (a 1 and a 4 read as a 4, surely). A glyph more than ONE_DIGIT_WIDTH times as wide as the
    row's digits pays for being read as one digit, in proportion to the excess; a split pays
    SPLIT_COST for each digit it makes beyond what the glyph's width says.
    """
    confidence = float(np.mean(np.log(np.maximum(probabilities[indices].max(axis=1), 1e-6))))
    ratio = glyph.box.w / digit_width
    digits = len(indices)
    if digits == 1:
        cost = WIDTH_COST * max(0.0, ratio - ONE_DIGIT_WIDTH)
    else:
        cost = SPLIT_COST * max(0.0, digits - max(1.0, ratio / ONE_DIGIT_WIDTH))
    return confidence - cost


def page_steps(page: PageInk) -> list[Step]:
    """What the page stage saw and did, for the steps strip: the grayscale, what was dropped, what was kept."""
    dropped = np.where(page.lines | page.dropped, 1.0, 0.0).astype(np.float32)
    return [
        Step("grayscale", "Grayscale", preprocess._to_step_image(page.gray)),
        Step("dropped", "Dropped as lines, edges and specks", preprocess._to_step_image(dropped)),
        Step("kept", "Kept as the digits' ink", preprocess._to_step_image(page.ink)),
    ]
