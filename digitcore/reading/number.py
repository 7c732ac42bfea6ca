"""Reading a whole number: the page stage, the glyphs cut into digits, each digit through the model.

Each digit is prepared exactly as one-digit reading prepares its ink (digitcore.preprocess.fit_and_centre:
a 20x20 fit, centred by mass in 28x28) and all digits go through the model in one compiled call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from digitcore.preprocess import Step
from digitcore.reading.page import Box, PageInk

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
    """
    raise NotImplementedError
