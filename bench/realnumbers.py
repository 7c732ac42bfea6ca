"""Reading whole numbers: real handwritten numbers (../shared/realnumbers) and numbers composed from
MNIST test digits, each beside the contours-and-boxes baseline with the same model, in the same run.

The product reads each image with `digitcore.reading.number.read_number` (what `python -m digitcore
read` runs). The baseline is the recipe of the MNIST tutorials: grayscale, invert a light
background, Otsu threshold, external contours, one box per contour (boxes under 1 % of the largest
box's area dropped as specks) sorted left to right, each box through the model with the 20-line
centring of bench/realdigits.py.

Scores: numbers read exactly, and digit accuracy (1 - edit distance / length, at least 0), per kind
and per number of digits. Composed numbers (development): MNIST test digits side by side at a
4-digit length, with gaps, with one touching pair, and with one overlapping pair, drawn large in
black on white; and two or three digits drawn small in a 28- or 40-px picture, as a small drawing
pad exports them (tiny; tiny_with_1 always has a 1, the narrowest digit). The real images are
evaluation data: read in place, never copied, never trained on.

    DIGITCORE_DATA_DIR=data/mnist python bench/realnumbers.py [--dir ../shared/realnumbers]
        [--model NAME|PATH] [--composed 300] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from realdigits import baseline_centre  # noqa: E402

from digitcore.reading import preprocess  # noqa: E402

DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "realnumbers"
COMPOSED_KINDS = ("gaps", "wide", "touching", "overlap", "drawn", "drawn_touching", "tiny", "tiny_with_1")
COMPOSED_DIGITS = 4
TINY_KINDS = ("tiny", "tiny_with_1")  # two or three digits in a 28- or 40-px picture (a small canvas's export)
TINY_SIDES = (28, 40)
BASELINE_SPECK = 0.01  # the baseline drops boxes under this fraction of the largest box's area


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def digit_accuracy(truth: str, read: str) -> float:
    return max(0.0, 1.0 - edit_distance(truth, read) / len(truth))


# ---------------------------------------------------------------------------------------------
# The contours-and-boxes baseline


def baseline_read(gray: np.ndarray, model) -> str:
    """The tutorial recipe on a grayscale image in [0, 1]: the digits it reads, left to right."""
    from digitcore import inference

    pixels = np.round(gray * 255).astype(np.uint8)
    if np.median(np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])) > 127:
        pixels = 255 - pixels  # light background: white ink on black, as MNIST
    _, binary = cv2.threshold(pixels, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(contour) for contour in contours]
    if not boxes:
        return ""
    largest = max(w * h for _, _, w, h in boxes)
    boxes = sorted((box for box in boxes if box[2] * box[3] >= BASELINE_SPECK * largest), key=lambda box: box[0])
    ink = np.where(binary > 0, pixels.astype(np.float32) / 255.0, 0.0)
    inputs = [baseline_centre(ink[y : y + h, x : x + w]) for x, y, w, h in boxes]
    return "".join(str(int(d)) for d in inference.predict(model, np.stack(inputs)).argmax(axis=1))


def _gray(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    array = np.asarray(image, dtype=np.float32)
    array = array / 255.0 if array.max() > 1.0 else array
    return array if array.ndim == 2 else array[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Numbers composed from MNIST test digits


def _ink_box(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(digit > 30)
    return digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _touch_offset(left: np.ndarray, right: np.ndarray, left_x: int, top_left: int, top_right: int) -> int:
    """The x at which `right` (top at top_right) just touches `left` (at left_x, top_left) from the right."""
    best = None
    for row in range(max(top_left, top_right), min(top_left + left.shape[0], top_right + right.shape[0])):
        left_row, right_row = left[row - top_left] > 30, right[row - top_right] > 30
        if left_row.any() and right_row.any():
            reach = left_x + int(np.nonzero(left_row)[0].max())  # the left digit's last ink column
            start = int(np.nonzero(right_row)[0].min())
            candidate = reach + 1 - start
            best = candidate if best is None else max(best, candidate)
    return best if best is not None else left_x + left.shape[1]


def _drawn(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit as a person might draw it in a number: slanted -15..+15 degrees, 0.8-1.25 times the size."""
    size = rng.uniform(0.8, 1.25)
    shear = np.tan(np.radians(rng.uniform(-15, 15)))
    height, width = crop.shape
    new_width = int(np.ceil(width * size + abs(shear) * height * size)) + 2
    matrix = np.array([[size, -shear * size, max(0.0, shear) * height * size + 1], [0, size, 1]], dtype=np.float32)
    warped = cv2.warpAffine(crop, matrix, (new_width, int(np.ceil(height * size)) + 2), flags=cv2.INTER_LINEAR)
    return _ink_box(warped)


def _pen(big: np.ndarray, rng: np.random.Generator, scale: int) -> np.ndarray:
    """The enlarged ink redrawn with a pen from hair-thin to twice MNIST's stroke (eroded or dilated)."""
    radius = int(rng.integers(-scale + 1, scale + 1))
    if radius == 0:
        return big
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1, 2 * abs(radius) + 1))
    pen = cv2.erode if radius < 0 else cv2.dilate
    thinned = pen(big.astype(np.float32), kernel)
    return thinned if thinned.max() > 0.3 else big


def compose_number(digits: list[np.ndarray], kind: str, rng: np.random.Generator, scale: int = 3) -> np.ndarray:
    """(h, w, 3) uint8: the MNIST digits side by side in black on white, enlarged `scale` times.

    gaps: 2-8 px (MNIST pixels) between the digits' ink boxes; wide: as gaps, each digit stretched
    sideways 1-1.6 times; touching: one adjacent pair moved
    until their inks touch; overlap: one pair moved 1-3 px further into each other; drawn: as gaps
    (1-10 px), each digit slanted and sized differently, all with a thinner or thicker pen;
    drawn_touching: drawn, with one touching pair.
    """
    crops = [_ink_box(digit) for digit in digits]
    if kind.startswith("drawn"):
        crops = [_drawn(crop, rng) for crop in crops]
    if kind == "wide":  # sprawling handwriting: each digit stretched sideways by up to 1.6 times
        crops = [
            np.asarray(
                Image.fromarray(crop).resize(
                    (max(1, round(crop.shape[1] * rng.uniform(1.0, 1.6))), crop.shape[0]), Image.Resampling.BILINEAR
                )
            )
            for crop in crops
        ]
    canvas = np.zeros((70, 60 * len(crops) + 40), dtype=np.float32)
    pair = int(rng.integers(0, len(crops) - 1)) if kind in ("touching", "overlap", "drawn_touching") else -1
    x = 10
    previous = None
    for index, crop in enumerate(crops):
        top = 20 + int(rng.integers(-2, 3)) + (20 - crop.shape[0]) // 2
        if previous is not None:
            prev_crop, prev_x, prev_top = previous
            if index - 1 == pair:
                x = _touch_offset(prev_crop, crop, prev_x, prev_top, top)
                if kind == "overlap":
                    x -= int(rng.integers(1, 4))
            else:
                x = (
                    prev_x
                    + prev_crop.shape[1]
                    + int(rng.integers(1, 11) if kind.startswith("drawn") else rng.integers(2, 9))
                )
        region = canvas[top : top + crop.shape[0], x : x + crop.shape[1]]
        np.maximum(region, crop.astype(np.float32) / 255.0, out=region)
        previous = (crop, x, top)
    rows, cols = np.nonzero(canvas > 0.05)
    canvas = canvas[max(0, rows.min() - 8) : rows.max() + 9, max(0, cols.min() - 8) : cols.max() + 9]
    big = np.asarray(
        Image.fromarray(canvas, mode="F").resize(
            (canvas.shape[1] * scale, canvas.shape[0] * scale), Image.Resampling.BICUBIC
        )
    )
    if kind.startswith("drawn"):
        big = _pen(big, rng, scale)
    gray = np.round(255 * (1.0 - np.clip(big, 0.0, 1.0))).astype(np.uint8)
    return np.stack([gray] * 3, axis=-1)


def compose_tiny(digits: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """(side, side, 3) uint8: two or three MNIST digits drawn small in black on white in a 28- or
    40-px square picture, as a small drawing pad exports a number: each digit 50-70 % of the side
    tall (smaller when the row would not fit), 1-3 px apart."""
    side = int(rng.choice(TINY_SIDES))
    crops = [_ink_box(digit).astype(np.float32) / 255.0 for digit in digits]
    gaps = [int(rng.integers(1, 4)) for _ in crops[1:]]
    aspects = [crop.shape[1] / crop.shape[0] for crop in crops]
    fits = (side - 4 - sum(gaps)) / sum(aspects)  # the tallest digits whose row fits the picture
    height = max(8, int(min(side * rng.uniform(0.5, 0.7), fits)))
    widths = [max(2, round(aspect * height)) for aspect in aspects]
    canvas = np.zeros((side, side), dtype=np.float32)
    x = int(rng.integers(1, max(2, side - sum(widths) - sum(gaps))))
    top = int(rng.integers(1, max(2, side - height)))
    for index, (crop, width) in enumerate(zip(crops, widths)):
        small = np.asarray(Image.fromarray(crop, mode="F").resize((width, height), Image.Resampling.BILINEAR))
        right = min(side, x + width)
        region = canvas[top : top + height, x:right]
        np.maximum(region, np.clip(small[:, : right - x], 0.0, 1.0), out=region)
        x = right + (gaps[index] if index < len(gaps) else 0)
    gray = np.round(255 * (1.0 - canvas)).astype(np.uint8)
    return np.stack([gray] * 3, axis=-1)


def _composed_indices(mnist, kind: str, rng: np.random.Generator) -> list[int]:
    """The MNIST test digits of one composed number: four, or two or three for a tiny picture (one
    of them a 1, the narrowest digit, for tiny_with_1)."""
    if kind not in TINY_KINDS:
        return [int(i) for i in rng.choice(len(mnist.y_test), COMPOSED_DIGITS, replace=False)]
    indices = [int(i) for i in rng.choice(len(mnist.y_test), int(rng.integers(2, 4)), replace=False)]
    if kind == "tiny_with_1":
        ones = np.nonzero(mnist.y_test == 1)[0]
        indices[int(rng.integers(0, len(indices)))] = int(rng.choice(ones))
    return indices


# ---------------------------------------------------------------------------------------------
# Scoring


def _summary(rows: list[dict], key: str, field: str) -> dict:
    groups: dict = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return {
        str(name): {
            "n": len(members),
            "exact": round(float(np.mean([m[f"{field}_exact"] for m in members])), 4),
            "digits": round(float(np.mean([m[f"{field}_digits"] for m in members])), 4),
        }
        for name, members in sorted(groups.items(), key=lambda item: str(item[0]))
    }


def _score(truth: str, product: str, baseline: str, **extra) -> dict:
    return dict(
        extra,
        truth=truth,
        read=product,
        baseline=baseline,
        product_exact=int(product == truth),
        product_digits=digit_accuracy(truth, product),
        baseline_exact=int(baseline == truth),
        baseline_digits=digit_accuracy(truth, baseline),
    )


def _read(image, model) -> str:
    from digitcore.reading.number import read_number

    try:
        return "".join(read_number(image, model).rows)
    except preprocess.ImageError:
        return ""


def _baseline(image, model) -> str:
    try:
        return baseline_read(_gray(image), model)
    except preprocess.ImageError:
        return ""


def real_numbers(directory: Path, model) -> dict:
    labels = json.loads((directory / "labels.json").read_text())
    meta = json.loads((directory / "meta.json").read_text())
    rows = []
    started = time.perf_counter()
    for name in sorted(labels):
        image = preprocess.decode((directory / name).read_bytes())
        rows.append(
            _score(
                labels[name],
                _read(image, model),
                _baseline(image, model),
                file=name,
                kind=meta[name]["kind"],
                length=len(labels[name]),
            )
        )
    seconds = time.perf_counter() - started
    return _report(rows, "kind") | {
        "by_length": _summary(rows, "length", "product"),
        "baseline_by_length": _summary(rows, "length", "baseline"),
        "misses": [
            {"file": r["file"], "kind": r["kind"], "truth": r["truth"], "read": r["read"], "baseline": r["baseline"]}
            for r in rows
            if not r["product_exact"]
        ],
        "seconds": round(seconds, 1),
    }


def composed_numbers(model, count: int, seed: int = 0) -> dict:
    from digitcore import data

    mnist = data.load_mnist()
    rng = np.random.default_rng(seed)
    rows = []
    for kind in COMPOSED_KINDS:
        for _ in range(count):
            indices = _composed_indices(mnist, kind, rng)
            digits = [mnist.x_test[i] for i in indices]
            image = compose_tiny(digits, rng) if kind in TINY_KINDS else compose_number(digits, kind, rng)
            truth = "".join(str(int(mnist.y_test[i])) for i in indices)
            rows.append(_score(truth, _read(image, model), _baseline(image, model), kind=kind))
    return _report(rows, "kind")


def _report(rows: list[dict], key: str) -> dict:
    return {
        "n": len(rows),
        "exact": round(float(np.mean([r["product_exact"] for r in rows])), 4),
        "digits": round(float(np.mean([r["product_digits"] for r in rows])), 4),
        "baseline_exact": round(float(np.mean([r["baseline_exact"] for r in rows])), 4),
        "baseline_digits": round(float(np.mean([r["baseline_digits"] for r in rows])), 4),
        f"by_{key}": _summary(rows, key, "product"),
        f"baseline_by_{key}": _summary(rows, key, "baseline"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help=f"the real numbers' folder (default {DEFAULT_DIR})"
    )
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--composed", type=int, default=300, help="composed numbers per kind (default 300)")
    parser.add_argument("--quick", action="store_true", help="60 composed numbers per kind")
    parser.add_argument("--no-real", action="store_true", help="only the composed numbers")
    args = parser.parse_args(argv)

    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import registry

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    report: dict = {"model": str(model_path)}
    if not args.no_real:
        if (args.dir / "labels.json").is_file():
            report["real"] = real_numbers(args.dir, model)
        else:
            report["real"] = {"error": f"No labels.json in {args.dir}."}
    report["composed"] = composed_numbers(model, 60 if args.quick else args.composed)
    report["targets"] = {
        "real_exact": 0.95,
        "real_digits": 0.99,
        "composed_gaps_exact": 0.97,
        "composed_touching_exact": 0.90,
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
