"""Robustness probes: MNIST test digits changed the way people's digits differ (barred sevens,
flat-topped sixes, thick and thin strokes, off-centre, rotated, small), and the barred-seven
transform for training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from digitcore import augment_shapes

SEVEN = 7
SIX = 6


def add_bar(image: np.ndarray) -> np.ndarray:
    """Draw a horizontal bar across the stem of a seven (uint8 28x28, white on black), the way
    many people in Europe write it: a little below the middle, about half the digit wide."""
    ink_rows = np.flatnonzero(image.max(axis=1) > 64)
    if len(ink_rows) < 4:
        return image.copy()
    top, bottom = ink_rows[0], ink_rows[-1]
    row = int(round(top + 0.55 * (bottom - top)))
    stem = np.flatnonzero(image[row] > 64)
    ink_cols = np.flatnonzero(image.max(axis=0) > 64)
    width = max(6, int(round(0.55 * (ink_cols[-1] - ink_cols[0] + 1))))
    centre = int(round(stem.mean())) if len(stem) else int(round(ink_cols.mean()))
    left, right = max(0, centre - width // 2), min(28, centre + (width + 1) // 2)
    barred = image.copy()
    barred[row : row + 2, left:right] = 255
    barred[row + 2, left:right] = np.maximum(barred[row + 2, left:right], 96)  # anti-aliased lower edge
    return barred


def bar_sevens(images: np.ndarray, labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of `images` where a random `fraction` of the sevens carry a bar (training augmentation)."""
    return augment_shapes.draw_on_share(
        images, labels, SEVEN, fraction, seed, lambda image, rng: add_bar(image), "barred-seven"
    )


def _pil_map(images: np.ndarray, change: Callable[[Image.Image, int], Image.Image]) -> np.ndarray:
    return np.stack([np.asarray(change(Image.fromarray(image), i), dtype=np.uint8) for i, image in enumerate(images)])


def _affine(image: Image.Image, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> Image.Image:
    # PIL's affine maps output to input coordinates: scale about the centre, then shift.
    centre = 14.0
    inverse = 1.0 / scale
    coefficients = (inverse, 0, centre - inverse * (centre + dx), 0, inverse, centre - inverse * (centre + dy))
    return image.transform((28, 28), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR)


def _thin(image: Image.Image, index: int) -> Image.Image:
    thinner = image.filter(ImageFilter.MinFilter(3))
    return thinner if np.asarray(thinner).max() > 100 else image  # keep digits that would vanish


PROBES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "barred_sevens": ("Sevens with a bar across the stem", lambda x: np.stack([add_bar(i) for i in x])),
    "flat_top_sixes": (
        "Sixes with a flat top",
        lambda x: augment_shapes.flat_top_sixes(x, np.full(len(x), SIX), 1.0, seed=0),
    ),
    "thick": (
        "Very thick strokes",
        lambda x: _pil_map(x, lambda im, i: im.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MaxFilter(3))),
    ),
    "thin": ("Very thin strokes", lambda x: _pil_map(x, _thin)),
    "off_centre": (
        "Off-centre by 5 pixels",
        lambda x: _pil_map(x, lambda im, i: _affine(im, dx=5 * (1 if i % 2 else -1), dy=5 * (1 if i % 4 < 2 else -1))),
    ),
    "rotated": (
        "Rotated by ±20°",
        lambda x: _pil_map(x, lambda im, i: im.rotate(20 if i % 2 else -20, resample=Image.Resampling.BILINEAR)),
    ),
    "small": ("Small (60 % size)", lambda x: _pil_map(x, lambda im, i: _affine(im, scale=0.6))),
}
# The probes made from one digit only: the others would pass through unchanged.
ONE_DIGIT_PROBES = {"barred_sevens": SEVEN, "flat_top_sixes": SIX}


def probe_set(
    name: str, images: np.ndarray, labels: np.ndarray, limit: int | None = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """The probe `name` built from MNIST test digits: (images uint8 (n, 28, 28), labels)."""
    if name not in PROBES:
        raise ValueError(f"Unknown probe '{name}'; choose one of {', '.join(PROBES)}.")
    if name in ONE_DIGIT_PROBES:
        keep = labels == ONE_DIGIT_PROBES[name]
        images, labels = images[keep], labels[keep]
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return PROBES[name][1](images), labels


def run_probes(model, images: np.ndarray, labels: np.ndarray, limit: int | None = 2000) -> list[dict]:
    """The model's accuracy on every probe and on the unchanged digits."""
    from digitcore import evaluation

    rows = [
        {
            "probe": "original",
            "title": "Unchanged MNIST test digits",
            "accuracy": evaluation.accuracy(
                labels[:limit], evaluation.predict_probabilities(model, images[:limit]).argmax(1)
            ),
            "n": int(len(labels[:limit])),
        }
    ]
    for name, (title, _) in PROBES.items():
        x, y = probe_set(name, images, labels, limit)
        predicted = evaluation.predict_probabilities(model, x).argmax(1)
        rows.append({"probe": name, "title": title, "accuracy": evaluation.accuracy(y, predicted), "n": int(len(y))})
    return rows
