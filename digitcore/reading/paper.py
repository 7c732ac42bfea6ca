"""The paper under the ink of a photo: its colour and its light evened out, and how far each pixel
stands out from it (white ink on black), against the paper's own noise.

One-digit reading (digitcore.reading.preprocess) and the page stage (digitcore.reading.page) both
measure a photo's ink this way, so that a number on paper is seen as a lone digit is:

    gray = colour_aware_gray(colour)                       # coloured ink as dark as it can be
    ink, noise, inverted = relative_ink(gray, estimate_background(gray), None)   # a first look
    radius = paper_filter_radius(stroke_width(hysteresis(ink, noise, ink_strength(ink))), gray.shape)
    ink, noise = ink_against_paper(gray, coloured_paper_luminance(colour, gray), radius, inverted)
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageFilter

from digitcore.reading.imageops import (
    box_blur,
    label_components,
    luma,
    luminance,
    max_filter,
    median,
    median_of_rows,
    percentile,
    resize,
)

# Something coloured lies on the paper when at least this share of the pixels are darker by this
# much in their darkest channel than in luminance (after the paper's own colour is divided out).
COLOURED_BY, COLOURED_SHARE = 0.1, 0.02
# The paper filter (a disc) is this many stroke widths across: it must bridge the widest dark part of
# a stroke (where strokes meet or a loop closes, a few widths) and no more, to follow bands and shadows.
PAPER_FILTER_STROKES = 5.0
PAPER_FILTER_SHARE = 0.15  # ... and at most this fraction of the picture: a band or a shadow wider than it stays paper
BACKGROUND_TAPS = 41  # the widest paper filter run at full resolution (wider ones run on a shrunk copy)


def colour_aware_gray(colour: np.ndarray, every: int = 1) -> np.ndarray:
    """A gray image in which coloured ink stands out as much as it can: the darkest channel of the
    white-balanced photo (luminance alone hides a light blue pen on white paper).

    The paper's colour (the median pixel: paper fills most of a photo of a digit) is divided out
    first, so yellow or grey paper becomes white and a channel in which the paper itself is dark
    does not pass for ink. Gray ink and pencil lose nothing: all channels are alike. With `every`
    above 1 the median is taken over every `every`-th pixel of every `every`-th row (a large photo's
    paper is as well known from a quarter of its pixels).
    """
    # channel by channel: numpy is slow along a last axis of 3 (a median over it some ten times, a
    # minimum some 30 times, a division several times)
    sample = colour[::every, ::every]
    paper = np.maximum(np.array([median(sample[..., c]) for c in range(3)], dtype=colour.dtype), 0.05)
    red, green, blue = (colour[..., c] / paper[c] for c in range(3))
    darkest = np.minimum(np.minimum(np.minimum(red, green), blue), luma(red, green, blue))
    darkest *= float(luminance(paper[None, None, :])[0, 0])
    return np.clip(darkest, 0.0, 1.0, out=darkest).astype(np.float32, copy=False)


def coloured_paper_luminance(
    colour: np.ndarray, gray: np.ndarray, plain: np.ndarray | None = None
) -> np.ndarray | None:
    """The photo's luminance (`plain`, when the caller has it already) when something coloured lies on
    the paper (a coloured band, a marker's stroke, a coloured pen), where the darkest channel `gray`
    falls far below it; else None, and the second ink pass (ink_against_paper) is skipped (black or
    gray ink on white or evenly coloured paper, most photos, where both grays agree)."""
    if colour.ndim != 3 or colour.shape[-1] != 3:
        return None
    plain = luminance(colour) if plain is None else plain
    return plain if float(np.mean(plain - gray > COLOURED_BY)) >= COLOURED_SHARE else None


def estimate_background(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness under uneven light, without the ink: a median of a dilated, small copy.

    Dilation (a max filter) removes dark strokes; the median follows shadow edges better than a blur.
    """
    height, width = gray.shape
    factor = max(1, round(max(height, width) / 80))  # about 80 cells on the long side
    small_w, small_h = max(3, width // factor), max(3, height // factor)
    small = resize(gray, small_w, small_h, Image.Resampling.BOX)
    small = max_filter(small, 1)
    small = np.asarray(Image.fromarray(small, mode="F").filter(ImageFilter.MedianFilter(5)))
    return resize(small, width, height, Image.Resampling.BILINEAR)


def morphological_background(gray: np.ndarray, radius: int, dark_ink: bool) -> np.ndarray:
    """Closing (dark ink) or opening (light ink) of `gray` with a disc of this radius.

    A disc, not a square: a square's diagonal is 1.4 times its side, so a square that bridges the
    strokes no longer fits inside a band or a shadow edge running at 45 degrees, and the band's
    colour becomes ink. Discs up to BACKGROUND_TAPS wide run at full resolution (a resized copy
    would blur a band's sharp edge into false ink); wider ones on a copy shrunk to keep them that wide.
    """
    height, width = gray.shape
    side = 2 * radius + 1
    factor = max(1.0, side / BACKGROUND_TAPS)
    # the grain is taken out first (a closing of raw grain is its local maximum: a bumpy paper that
    # leaves grain standing out as ink); a median keeps a band's or a shadow's edge sharp, a blur would not
    # (on 8-bit pixels: OpenCV's morphology with a disc is several times faster on them than on floats)
    small = cv2.medianBlur(np.round(np.clip(gray, 0.0, 1.0) * 255).astype(np.uint8), 3)
    if factor > 1.0:
        shrunk = (max(3, round(width / factor)), max(3, round(height / factor)))
        small = cv2.resize(small, shrunk, interpolation=cv2.INTER_LINEAR)  # the median already took out the grain
    taps = max(3, int(round(side / factor)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (taps, taps))
    operation = cv2.MORPH_CLOSE if dark_ink else cv2.MORPH_OPEN
    closed = cv2.morphologyEx(small, operation, disc, borderType=cv2.BORDER_REPLICATE).astype(np.float32) / 255.0
    if factor == 1.0:
        return closed
    return cv2.resize(closed, (width, height), interpolation=cv2.INTER_LINEAR)


def relative_ink(
    gray: np.ndarray, background: np.ndarray, inverted: bool | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ink map (white on black), local noise level map and polarity (None: decide) against a background."""
    relative = (gray - background) / np.maximum(background, 0.05)  # shading multiplies paper and ink alike
    relative = box_blur(relative, 1)  # soften grain and JPEG ringing
    deviation = relative - median(relative)
    noise = noise_map(deviation)
    dark, light = np.clip(-deviation, 0, None), np.clip(deviation, 0, None)
    if inverted is None:
        inverted = float((dark / noise).max()) >= float((light / noise).max())
    return (dark if inverted else light), noise, inverted


def noise_map(deviation: np.ndarray, cell: int = 16) -> np.ndarray:
    """Robust local noise (sigma) per pixel: the median absolute deviation in 16x16 cells.

    Noise is not uniform: relative to the paper's brightness it is larger in shadows. The median
    ignores ink as long as it covers less than half of a cell.
    """
    height, width = deviation.shape
    rows, cols = max(1, height // cell), max(1, width // cell)
    cropped = deviation[: rows * cell, : cols * cell] if height >= cell and width >= cell else deviation
    cell_h, cell_w = cropped.shape[0] // rows, cropped.shape[1] // cols
    blocks = cropped[: rows * cell_h, : cols * cell_w].reshape(rows, cell_h, cols, cell_w).transpose(0, 2, 1, 3)
    cells = blocks.reshape(rows, cols, -1)
    # deviation from each cell's own median: a cell inside a thick stroke is as quiet as paper
    centred = np.abs(cells - median_of_rows(cells)[..., None])
    sigma = 1.4826 * median_of_rows(centred).astype(np.float32)
    if rows >= 3 and cols >= 3:
        sigma = np.asarray(Image.fromarray(sigma, mode="F").filter(ImageFilter.MedianFilter(3)))
    typical = float(np.median(sigma))
    # clean digital images have almost no noise; shadows raise it, but not by more than a few times
    sigma = np.clip(sigma, max(typical * 0.5, 1e-3), max(typical * 3.0, 1e-3))
    return resize(sigma, width, height, Image.Resampling.BILINEAR)


def ink_strength(ink: np.ndarray) -> float:
    """How strong the ink is: a high percentile, but at least half the maximum for tiny digits."""
    return max(percentile(ink, 99.95), float(ink.max()) * 0.5)


def paper_filter_radius(stroke: float, shape: tuple[int, ...]) -> int:
    """The radius of the paper filter for strokes `stroke` px wide in a picture of this shape."""
    across = min(PAPER_FILTER_STROKES * stroke, PAPER_FILTER_SHARE * max(shape[:2]))
    return max(3, round(across / 2))


def ink_against_paper(
    gray: np.ndarray, plain_gray: np.ndarray | None, radius: int, inverted: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The ink (white on black) and the noise map against the paper found by a filter of `radius`.

    With `plain_gray` (the luminance of a colour photo, `gray` being its darkest channel), the ink
    is the stronger of the two at each pixel: the darkest channel shows a coloured pen best, but
    where the paper is coloured that channel is dark already and a gray pencil crossing it vanishes
    there, while its luminance still shows the pencil.
    """
    ink, noise, _ = relative_ink(gray, morphological_background(gray, radius, dark_ink=inverted), inverted)
    if plain_gray is not None:
        plain_ink, plain_noise, _ = relative_ink(
            plain_gray, morphological_background(plain_gray, radius, dark_ink=inverted), inverted
        )
        ink, noise = np.maximum(ink, plain_ink), np.maximum(noise, plain_noise)
    return ink, noise


def hysteresis_marks(ink: np.ndarray, noise: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The marks above a low threshold (labels, and their sizes) and which of them reach a high one
    (both above the noise): keep[labels] is the ink."""
    high = np.maximum(6.0 * noise, 0.45 * strength)
    low = np.maximum(3.0 * noise, 0.2 * strength)
    labels, sizes = label_components(ink > low)
    keep = np.bincount(labels[ink > high], minlength=len(sizes)) > 0
    keep[0] = False
    return labels, keep


def hysteresis(ink: np.ndarray, noise: np.ndarray, strength: float) -> np.ndarray:
    """The pixels above a low threshold joined to pixels above a high one (both above the noise)."""
    labels, keep = hysteresis_marks(ink, noise, strength)
    return keep[labels]
