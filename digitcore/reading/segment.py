"""Cutting a page's ink into digits: group the strokes of one digit, split touching digits, order rows.

Works on a PageInk (digitcore.reading.page) and knows nothing of the model: where a split is
ambiguous it returns the options, and the number reader lets the model choose among them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitcore.reading.page import Box, PageInk


@dataclass
class Glyph:
    """The ink of one digit (or of a group that may hold several touching digits), in working pixels."""

    box: Box  # in the PageInk's working pixels
    ink: np.ndarray  # float32 (box.h, box.w): this glyph's ink only (other glyphs' ink inside the box is 0)
    mask: np.ndarray  # bool (box.h, box.w)


@dataclass
class SplitOption:
    """One way to read a glyph: as the digits `parts`, left to right (one part: not split)."""

    parts: list[Glyph]


def find_glyphs(page: PageInk) -> list[Glyph]:
    """The page's ink grouped into glyphs: strokes that belong together joined (a 5 whose flag does not
    touch, a 4 in two strokes, a dotted line), specks and stray marks dropped. Not yet split or ordered."""
    raise NotImplementedError


def split_options(glyph: Glyph, height: float) -> list[SplitOption]:
    """The ways to read `glyph` given the typical digit height of its row: unsplit first, then splits
    into two (or three) digits at the minima of its column ink, for a glyph wide enough to hold them."""
    raise NotImplementedError


def order_rows(glyphs: list[Glyph], max_rows: int = 2) -> list[list[Glyph]]:
    """Glyphs in rows (top to bottom), each row left to right; at most `max_rows` rows."""
    raise NotImplementedError
