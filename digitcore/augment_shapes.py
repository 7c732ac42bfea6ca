"""Shapes people give digits that MNIST's writers rarely did, drawn on uint8 training digits before fitting.

Tried on handwriting it had never seen, the model read a 6 with a flat top as 5 (MNIST's only
digits with a flat bar on top are fives) and a 3 whose loops curl back towards its middle as 8
(MNIST's threes end in short open hooks). Each function below draws that shape onto a random share
of one class's training digits, in that digit's own stroke width, as augment_real.flag_ones draws
the flag on ones and probes.bar_sevens the bar on sevens:

    x_train = flat_top_sixes(x_train, y_train, 0.2, seed=0)
    x_train = loop_threes(x_train, y_train, 0.2, seed=0)

They need the labels, so they run once on the uint8 digits before fitting, not inside the model.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw

SIDE = 28
INK = 64  # a pixel brighter than this is ink, as augment_real.add_flag reads a one
SCALE = 4  # shapes are drawn this much larger and shrunk, for anti-aliased edges like MNIST's
SIX, THREE = 6, 3


def stroke_width(image: np.ndarray) -> float:
    """The digit's pen width in pixels: the median length of the ink's runs across rows and down
    columns, whichever is shorter (a run along a stroke is long, one across it is the width)."""
    ink = image > 128
    lengths = []
    for lines in (ink, ink.T):
        padded = np.pad(lines.astype(np.int8), ((0, 0), (1, 1)))
        steps = np.diff(padded, axis=1)
        starts, ends = np.nonzero(steps == 1)[1], np.nonzero(steps == -1)[1]
        if len(starts):
            lengths.append(float(np.median(ends - starts)))
    return max(1.5, min(lengths)) if lengths else 2.0


def _drawn(image: np.ndarray, points: list[tuple[float, float]], width: float) -> np.ndarray:
    """`image` with a pen stroke through `points` (x, y in pixels) `width` wide, anti-aliased."""
    canvas = Image.new("L", (SIDE * SCALE, SIDE * SCALE), 0)
    pen = max(1, int(round(width * SCALE)))
    scaled = [((x + 0.5) * SCALE, (y + 0.5) * SCALE) for x, y in points]
    draw = ImageDraw.Draw(canvas)
    draw.line(scaled, fill=255, width=pen, joint="curve")
    for x, y in (scaled[0], scaled[-1]):  # round pen ends
        draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return np.maximum(image, np.asarray(canvas.resize((SIDE, SIDE), Image.Resampling.BOX)))


def _curve(start, control, end, steps: int = 12) -> list[tuple[float, float]]:
    """Points along the quadratic Bezier curve from `start` to `end` pulled towards `control`."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    points = (1 - t) ** 2 * np.array(start) + 2 * (1 - t) * t * np.array(control) + t**2 * np.array(end)
    return [(float(x), float(y)) for x, y in points]


def add_flat_top(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 6 given a flat top: a bar from the top of its stroke to the right, a third to a half of
    the digit's height long, within 12 degrees of level (as people who start a 6 like a 5 do)."""
    ink_rows = np.flatnonzero(image.max(axis=1) > INK)
    if len(ink_rows) < 10:
        return image.copy()
    top, height = int(ink_rows[0]), int(ink_rows[-1] - ink_rows[0] + 1)
    top_cols = np.flatnonzero(image[top : top + 2].max(axis=0) > INK)
    start = (float(top_cols.min()) + rng.uniform(0.0, 1.0), top + 0.5)
    length = rng.uniform(0.33, 0.5) * height
    angle = np.deg2rad(rng.uniform(-12.0, 8.0))  # positive: the bar falls to the right
    end = (min(SIDE - 2.0, start[0] + length * np.cos(angle)), start[1] + length * np.sin(angle))
    if end[0] - start[0] < 0.25 * height:  # no room on the right: the bar would be a dot
        return image.copy()
    return _drawn(image, [start, end], stroke_width(image))


def add_loops(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 3 whose ends curl back towards its middle, leaving a gap (a 3 drawn with large loops):
    from the leftmost ink of its top rows and of its bottom rows (one or both), a curve bulging
    left that stops short of the leftmost ink of its middle rows."""
    ink_rows = np.flatnonzero(image.max(axis=1) > INK)
    if len(ink_rows) < 12:
        return image.copy()
    top, bottom = int(ink_rows[0]), int(ink_rows[-1])
    height = bottom - top + 1

    def leftmost(first: float, last: float) -> tuple[float, float] | None:
        rows = np.arange(int(top + first * height), min(bottom, int(top + last * height)) + 1)
        cols = [np.flatnonzero(image[row] > INK) for row in rows]
        found = [(float(c.min()), float(row)) for c, row in zip(cols, rows) if len(c)]
        return min(found) if found else None

    middle = leftmost(0.4, 0.6)
    if middle is None:
        return image.copy()
    width = stroke_width(image)
    which = rng.integers(3)  # 0: top only, 1: bottom only, 2: both
    for part, (first, last) in enumerate(((0.0, 0.22), (0.78, 1.0))):
        if which not in (part, 2):
            continue
        end_of_stroke = leftmost(first, last)
        if end_of_stroke is None or end_of_stroke[0] >= middle[0] + 2 * width:
            continue  # this end does not reach out to the left of the middle: nothing to curl
        # The curl heads for just short of the middle and stops part of the way there, so the loop
        # stays open by well over a stroke's width: closed, it would be an 8 (or a B).
        towards = -1.0 if part == 0 else 1.0  # towards the middle: down from the top, up from the bottom
        aim = (middle[0] + 1.0, middle[1] - towards * (2.0 * width + 2.0))
        share = rng.uniform(0.35, 0.75)
        stop = (
            end_of_stroke[0] + share * (aim[0] - end_of_stroke[0]),
            end_of_stroke[1] + share * (aim[1] - end_of_stroke[1]),
        )
        bulge = rng.uniform(0.05, 0.15) * height
        control = (
            max(1.0, min(end_of_stroke[0], stop[0]) - bulge),
            (end_of_stroke[1] + stop[1]) / 2,
        )
        curled = _drawn(image, _curve(end_of_stroke, control, stop), width)
        if _holes(curled) == _holes(image):  # the loop is left open, or this is no 3 any more
            image = curled
    return image


def _holes(image: np.ndarray) -> int:
    """How many closed loops the digit's ink makes: background regions that do not reach the edge."""
    background = np.pad((image <= INK).astype(np.uint8), 1, constant_values=1)
    count, _ = cv2.connectedComponents(background, connectivity=4)
    return count - 2  # one label is the ink, one the background around the digit


def draw_on_share(
    images: np.ndarray,
    labels: np.ndarray,
    digit: int,
    fraction: float,
    seed: int,
    draw: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    name: str,
) -> np.ndarray:
    """A copy of uint8 `images` where `draw` changed a random `fraction` of the digits labelled
    `digit` (one share, one seed: the same digits each run). Every shape drawn on training digits
    before fitting goes through here: these, augment_real's flagged ones, probes' barred sevens."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"The {name} fraction must be in [0, 1], not {fraction}.")
    images = images.copy()
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(labels == digit)
    for index in rng.permutation(chosen)[: int(round(fraction * len(chosen)))]:
        images[index] = draw(images[index], rng)
    return images


def flat_top_sixes(images: np.ndarray, labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of uint8 `images` where a random `fraction` of the sixes have a flat top."""
    return draw_on_share(images, labels, SIX, fraction, seed, add_flat_top, "flat-topped six")


def loop_threes(images: np.ndarray, labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of uint8 `images` where a random `fraction` of the threes curl back into loops."""
    return draw_on_share(images, labels, THREE, fraction, seed, add_loops, "looped three")
