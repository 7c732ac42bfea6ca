"""The page stage: the ink that belongs to the digits on a drawing or a photo of paper, nothing else.

One image in; out, at a working scale, a white-on-black ink map in which rulings, grid lines,
margins, paper edges, shadows, colour bands and specks are zero, with the masks of what was kept and
what was dropped (for the steps strip). One-digit reading (digitcore.preprocess) and number reading
(digitcore.reading.number) both start here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left x, top y, width w, height h."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def scaled(self, factor: float) -> Box:
        """The same box in an image `factor` times as large (rounded outwards)."""
        x, y = int(np.floor(self.x * factor)), int(np.floor(self.y * factor))
        right, bottom = int(np.ceil(self.right * factor)), int(np.ceil(self.bottom * factor))
        return Box(x, y, max(1, right - x), max(1, bottom - y))

    def as_list(self) -> list[int]:
        """[x, y, w, h], as the CLI prints it."""
        return [self.x, self.y, self.w, self.h]


@dataclass
class PageInk:
    """The digits' ink on one page, at working scale (the original shrunk to at most PAGE_SIDE)."""

    ink: np.ndarray  # float32 (h, w) in [0, 1]: white ink on black, 0 wherever nothing was kept
    mask: np.ndarray  # bool (h, w): the pixels kept as the digits' ink
    lines: np.ndarray  # bool (h, w): marks dropped as rulings, grid lines and paper edges
    dropped: np.ndarray  # bool (h, w): other marks dropped (specks, bands, marks running off the picture)
    gray: np.ndarray  # float32 (h, w) in [0, 1]: the grayscale the ink was found in, for display
    scale: float  # working pixels per original pixel (at most 1)
    original_size: tuple[int, int]  # (width, height) of the image as given
    stroke: float  # typical stroke width of the kept ink, in working pixels
    photo: bool  # read as a photo of paper (False: a clean drawing, taken as it is)

    def to_original(self, box: Box) -> Box:
        """A box in working pixels as a box in the pixels of the image as given (clipped to it)."""
        scaled = box.scaled(1.0 / self.scale)
        width, height = self.original_size
        x, y = min(max(0, scaled.x), width - 1), min(max(0, scaled.y), height - 1)
        return Box(x, y, max(1, min(scaled.right, width) - x), max(1, min(scaled.bottom, height) - y))


def find_ink(image: Image.Image | np.ndarray) -> PageInk:
    """The digits' ink on a drawing or a photo of paper (see the module docstring).

    Accepts what digitcore.preprocess.to_mnist accepts: a decoded Pillow image or an (h, w), (h, w, 3)
    or (h, w, 4) array (uint8 or float in [0, 1]). Raises preprocess.NoDigitFound when nothing that
    could be a digit is left and ImageTooSmall for images smaller than MIN_SIDE.
    """
    raise NotImplementedError
