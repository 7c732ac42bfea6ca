"""What an input is before any reading: its colour and alpha as float arrays, and its kind.

A kind says which pipeline suits the picture: "mnist" for tiny crops already like MNIST's digits,
"canvas" for drawings (one exact background colour, or transparency), "photo" for paper under a
camera. One-digit reading (preprocess.py) and the page stage (page.py) both start here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitcore.reading.decode import MIN_SIDE, WORK_SIDE, ImageTooSmall, image_to_array
from digitcore.reading.imageops import border, luminance

KINDS = ("auto", "canvas", "photo", "mnist")  # "auto": decide_kind chooses


@dataclass(frozen=True)
class InputArrays:
    """A picture as float arrays: colour (h, w, c) in [0, 1], alpha (h, w) or None, and whether any
    pixel is see-through (a drawing pad's background is)."""

    colour: np.ndarray
    alpha: np.ndarray | None
    had_transparency: bool


def checked_input(image: Image.Image | np.ndarray) -> InputArrays:
    """The picture's arrays (input_arrays), refusing with ImageTooSmall one smaller than MIN_SIDE."""
    colour, alpha = input_arrays(image)
    height, width = colour.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ImageTooSmall(f"The image is only {width}x{height} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE}.")
    return InputArrays(colour, alpha, had_transparency=alpha is not None and float(alpha.min()) < 0.99)


def input_arrays(image: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour (h, w, c) float32 [0, 1] and alpha or None from a Pillow image or an array."""
    if isinstance(image, Image.Image):
        factor = max(image.size) // WORK_SIDE
        if factor >= 2:  # shrink huge pictures before they become float arrays
            if image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
                image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode else "RGB")
            image = image.reduce(factor)
        return image_to_array(image)
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"Expected a 2-D grayscale, (h, w, 3) RGB or (h, w, 4) RGBA array, got shape {array.shape}.")
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif array.dtype == bool:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.number):
        values = np.nan_to_num(array.astype(np.float32))
        top = float(values.max()) if values.size else 0.0
        # floats in [0, 1] are taken as they are; larger values as 0-255 (or 0-65535) pixels
        if top > 255.0:
            values = values / 65535.0
        elif top > 1.0:
            values = values / 255.0
        values = np.clip(values, 0.0, 1.0)
    else:
        raise ValueError(f"Expected a numeric image array, got dtype {array.dtype}.")
    if values.ndim == 2:
        return values[..., None], None
    if values.shape[-1] == 4:
        return values[..., :3], values[..., 3]
    return values, None


def decide_kind(colour: np.ndarray, had_transparency: bool, gray: np.ndarray | None = None) -> str:
    """ "mnist" for tiny images, "canvas" for drawings (a flat background), "photo" otherwise
    (`gray`: the colour's luminance, when the caller has it already)."""
    height, width = colour.shape[:2]
    if max(height, width) <= 40:
        return "mnist"
    if had_transparency:
        return "canvas"
    gray = luminance(colour) if gray is None else gray
    background = float(np.median(border(gray)))
    flat = float(np.mean(np.abs(gray - background) < 3.0 / 255.0))
    # a drawing's background is one exact colour; paper under a camera never is
    return "canvas" if flat > 0.5 else "photo"
