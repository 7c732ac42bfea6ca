"""Digits on procedurally generated pages: one condition of real paper at a time, beside the 20-line baseline.

Each MNIST test digit (and a share of simple synthetic strokes: a 0 as an ellipse, a 1 as a line,
a 7 as two strokes) is redrawn along its pen path with a pen, pencil or ballpoint and put on a page
rendered for one condition:

    plain          white paper, even light
    ruled          ruled lines at -8..+8 degrees (some with a margin line)
    ruled_curved   ruled lines bent by a page's curl
    squared        a grid of squares smaller than the digit, tilted
    coloured       yellow, pink, green, blue or grey paper
    graded         paper whose colour changes across the page
    band           a coloured band with sharp edges across the page, behind the digit
    shadow         a hard or soft shadow and uneven light
    perspective    the page seen at an angle (a perspective warp)
    blur_jpeg      camera blur and heavy JPEG compression
    small          low resolution: the digit 12-40 px tall
    thin_pen       a hair-thin pen (1-1.5 px strokes)
    tight          cropped at or a pixel inside the digit's top and bottom, a third with a table's
                   edge beside the digit and a third with a shadow
    ruled_small    a small crop of a notebook photographed from afar: the digit 16-40 px tall on ruled
                   lines a pixel or two thick (about as thick as the pen), blurred

Every page also gets a little light gradient, noise and a random ink (black, blue or pencil grey).
Each page is read by the product's one-digit path (decode, preprocess.to_mnist), by the number
reader (digitcore.reading.number.read_number: right when it reads exactly the one digit) and by the
20-line baseline of bench/realdigits.py, all with the same model. Nothing is trained on these pages
and nothing is fitted to them: they are for development, the real sets stay the check.

    DIGITCORE_DATA_DIR=data/mnist python bench/pages.py [--count 250] [--quick] [--seed 0] [--save DIR]
        [--no-number-reader] [--digits N]

With --digits N (2 or more) each page carries an N-digit number instead, its digits written side by
side with gaps, and is read by the number reader (right when it reads exactly that number) beside
the contours-and-boxes baseline of bench/realnumbers.py: the same conditions of paper, light and pen,
for the number reader's development. The pages of --digits 1 (the default) are the one-digit pages.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from handwriting import _smooth_noise, _stamp, _transform, pen_path  # noqa: E402
from realdigits import baseline_to_mnist  # noqa: E402

from digitcore.reading import preprocess  # noqa: E402

CONDITIONS = (
    "plain",
    "ruled",
    "ruled_curved",
    "squared",
    "coloured",
    "graded",
    "band",
    "shadow",
    "perspective",
    "blur_jpeg",
    "small",
    "thin_pen",
    "tight",
    "ruled_small",
)
SYNTHETIC_SHARE = 0.1  # of the pages carry one of our own strokes instead of an MNIST digit
INKS = {
    "black": np.array([0.08, 0.08, 0.1]),
    "blue": np.array([0.12, 0.18, 0.55]),
    "pencil": np.array([0.42, 0.42, 0.45]),
}
PAPERS = {
    "white": np.array([0.95, 0.95, 0.93]),
    "yellow": np.array([0.98, 0.93, 0.62]),
    "pink": np.array([0.97, 0.78, 0.84]),
    "green": np.array([0.74, 0.92, 0.76]),
    "blue": np.array([0.72, 0.84, 0.97]),
    "grey": np.array([0.7, 0.7, 0.7]),
}


# ---------------------------------------------------------------------------------------------
# Strokes


def synthetic_path(label: int, rng: np.random.Generator) -> np.ndarray:
    """Pen-path points (n, 2) of a simple digit of our own, about 20 units tall, centred."""
    if label == 0:
        t = np.linspace(0, 2 * np.pi, 200)
        points = np.stack([rng.uniform(5, 8) * np.cos(t), 10 * np.sin(t)], axis=1)
    elif label == 1:
        t = np.linspace(-10, 10, 80)[:, None]
        points = np.concatenate([np.zeros_like(t) + rng.uniform(-0.15, 0.15) * t, t], axis=1)
    else:  # a 7: a bar and a diagonal
        bar = np.stack([np.linspace(-6, 6, 60), np.full(60, -10.0)], axis=1)
        stem = np.stack([np.linspace(6, -2, 100), np.linspace(-10, 10, 100)], axis=1)
        points = np.concatenate([bar, stem])
    return points


def number_path(paths: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """The pen paths of several digits (each centred, about 20 units tall) written side by side, left
    to right: gaps of a tenth to a half of a digit's height, each digit a little larger or smaller
    and higher or lower than the one before, as a hand writes a number."""
    placed, right = [], 0.0
    for path in paths:
        path = path * rng.uniform(0.85, 1.1)
        left = right + (rng.uniform(2.0, 10.0) if placed else 0.0)
        shifted = path + np.array([left - path[:, 0].min(), rng.uniform(-1.5, 1.5)])
        placed.append(shifted)
        right = float(shifted[:, 0].max())
    points = np.concatenate(placed)
    return points - (points.min(axis=0) + points.max(axis=0)) / 2


def draw_ink(points: np.ndarray, size: tuple[int, int], height: float, pen: float, rng) -> np.ndarray:
    """Coverage (h, w) of the pen path scaled to `height` px, somewhere inside the page."""
    extent = np.ptp(points[:, 1]) or 1.0
    points = points * (height / extent)
    span = points.max(axis=0) - points.min(axis=0) + pen
    room = np.maximum(np.array(size) - span - 8, 0)
    offset = 4 + rng.uniform(0.15, 0.85, size=2) * room + pen / 2 - points.min(axis=0)
    return _stamp(size, points + offset, pen / 2)


# ---------------------------------------------------------------------------------------------
# Pages


def _grid_lines(size, spacing, angle, rng, curl=0.0, vertical=False) -> np.ndarray:
    """Coverage of parallel thin lines `spacing` px apart at `angle` degrees, optionally curled."""
    width, height = size
    canvas = Image.new("L", (width * 2, height * 2), 0)
    draw = ImageDraw.Draw(canvas)
    thickness = int(rng.integers(1, 3)) * 2
    slope = np.tan(np.radians(angle))
    along, across = (height, width) if vertical else (width, height)  # lines run the page's full length
    xs = np.linspace(0, along, 60)
    phase = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(0, spacing)
    for base in np.arange(-across - offset, 2 * across, spacing):
        bend = curl * np.sin(np.pi * xs / along + phase) if curl else 0.0
        ys = base + slope * xs + bend
        points = [(2 * x, 2 * y) for x, y in zip(xs, ys)] if not vertical else [(2 * y, 2 * x) for x, y in zip(xs, ys)]
        draw.line(points, fill=255, width=thickness)
    coverage = np.asarray(canvas.reduce(2), dtype=np.float32) / 255.0
    return coverage


def _shadow(xs: np.ndarray, ys: np.ndarray, ramp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The light's factor (h, w) under a hard or soft shadow edge and uneven light."""
    h, w = xs.shape
    light = 1 + rng.uniform(0.2, 0.4) * ramp
    angle = rng.uniform(0, 2 * np.pi)
    side = (xs - rng.uniform(0.2, 0.8) * w) * np.cos(angle) + (ys - rng.uniform(0.2, 0.8) * h) * np.sin(angle)
    softness = rng.uniform(0.5, 15)
    return light * (1 - rng.uniform(0.3, 0.55) * 0.5 * (1 + np.tanh(side / (2 * softness))))


def _tight_crop(photo: np.ndarray, ink: np.ndarray, edge: bool, rng: np.random.Generator) -> np.ndarray:
    """The photo cropped at or a pixel inside the digit's top and bottom, as people crop a photo to
    the writing; with `edge`, a dark table beyond a paper edge (tilted a few degrees) beside the digit."""
    rows = np.nonzero(ink.max(axis=1) > 0.3 * ink.max())[0]
    inset = int(rng.integers(0, 2))
    photo = photo[rows[0] + inset : rows[-1] + 1 - inset].copy()
    if not edge:
        return photo
    h, w = photo.shape[:2]
    cols = np.nonzero(ink.max(axis=0) > 0.3 * ink.max())[0]
    room_left, room_right = int(cols[0]), w - 1 - int(cols[-1])
    room = max(room_left, room_right)
    if room < 6:
        return photo
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    distance = rng.uniform(0.25, 0.75) * room  # from the picture's side to the paper's edge
    slope = np.tan(np.radians(rng.uniform(-4, 4)))
    if room_left >= room_right:
        beyond = distance + slope * (ys - h / 2) - xs
    else:
        beyond = xs - (w - 1 - distance + slope * (ys - h / 2))
    table = np.clip(beyond + 0.5, 0.0, 1.0)[..., None]  # a one-pixel soft edge
    colour = rng.uniform(0.08, 0.45) * np.array([1.0, rng.uniform(0.8, 1.0), rng.uniform(0.6, 1.0)])
    return photo * (1 - table) + colour * table


def render_page(points: np.ndarray, condition: str, rng: np.random.Generator, number: bool = False) -> bytes:
    """PNG or JPEG bytes of the pen path written on a page of `condition` (`number`: the path is a
    number's, and the page is made wider by as many digit heights as the number is wider than tall)."""
    small = condition == "small"
    digit_height = (
        rng.uniform(12, 40) if small else rng.uniform(16, 40) if condition == "ruled_small" else rng.uniform(40, 100)
    )
    width = int(digit_height * rng.uniform(1.8, 3.2))
    if number:
        width += int(digit_height * max(0.0, np.ptp(points[:, 0]) / (np.ptp(points[:, 1]) or 1.0) - 1.0))
    height = int(digit_height * rng.uniform(1.6, 2.6))
    size = (max(width, 24), max(height, 24))
    pen = 1.0 + 0.5 * rng.random() if condition == "thin_pen" else max(1.2, digit_height * rng.uniform(0.05, 0.12))
    ink = draw_ink(_transform(points, rng, rotation=6, shear=0.15), size, digit_height, pen, rng)
    ink_name = str(rng.choice(list(INKS)))
    ink_colour = INKS[ink_name] * rng.uniform(0.85, 1.15)
    ink = ink * (rng.uniform(0.6, 0.9) if ink_name == "pencil" else rng.uniform(0.85, 1.0))
    h, w = size[1], size[0]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)

    paper_name = str(rng.choice(["yellow", "pink", "green", "blue", "grey"])) if condition == "coloured" else "white"
    paper = np.broadcast_to(PAPERS[paper_name] * rng.uniform(0.9, 1.03), (h, w, 3)).copy()
    if condition == "graded":
        other = PAPERS[str(rng.choice(list(PAPERS)))]
        direction = rng.uniform(0, 2 * np.pi)
        ramp = ((xs - w / 2) * np.cos(direction) + (ys - h / 2) * np.sin(direction)) / max(w, h) + 0.5
        paper = paper * (1 - ramp[..., None]) + other * ramp[..., None]
    if condition == "band":
        angle = rng.uniform(0, np.pi)
        across = (xs - w * rng.uniform(0.3, 0.7)) * np.cos(angle) + (ys - h * rng.uniform(0.3, 0.7)) * np.sin(angle)
        band = (np.abs(across) < rng.uniform(0.1, 0.25) * max(w, h)).astype(np.float32)
        band = cv2.GaussianBlur(band, (0, 0), 0.7)
        colour = PAPERS[str(rng.choice(["yellow", "pink", "green", "blue", "grey"]))] * rng.uniform(0.7, 0.95)
        paper = paper * (1 - band[..., None]) + colour * band[..., None]
    texture = 0.02 * _smooth_noise(rng, (h, w), (max(2, w // 12), max(2, h // 12)))
    paper = paper * (1 + texture[..., None])

    lines = np.zeros((h, w), dtype=np.float32)
    if condition in ("ruled", "ruled_curved", "ruled_small"):
        curl = rng.uniform(2, 7) if condition == "ruled_curved" else 0.0
        lines = _grid_lines(size, digit_height * rng.uniform(0.7, 1.4), rng.uniform(-8, 8), rng, curl)
        if rng.random() < 0.4:  # a margin line down the page
            margin = np.zeros((h, w), dtype=np.float32)
            x = int(rng.uniform(0.05, 0.2) * w)
            margin[:, x : x + 2] = 1.0
            lines = np.maximum(lines, margin)
    if condition == "squared":
        spacing, angle = digit_height * rng.uniform(0.3, 0.6), rng.uniform(-8, 8)
        lines = np.maximum(
            _grid_lines(size, spacing, angle, rng), _grid_lines(size, spacing, -angle, rng, vertical=True)
        )
    line_colour = np.array([0.45, 0.6, 0.9]) if rng.random() < 0.6 else np.array([0.55, 0.55, 0.6])
    lines = lines * rng.uniform(0.5, 0.9)
    surface = paper * (1 - lines[..., None]) + line_colour * lines[..., None]
    surface = surface * (1 - ink[..., None]) + ink_colour * ink[..., None]

    direction = rng.uniform(0, 2 * np.pi)
    ramp = ((xs - w / 2) * np.cos(direction) + (ys - h / 2) * np.sin(direction)) / max(w, h)
    light = rng.uniform(0.8, 1.05) * (1 + rng.uniform(0.0, 0.15) * ramp)
    extra = str(rng.choice(["none", "edge", "shadow"])) if condition == "tight" else "none"
    if condition == "shadow" or extra == "shadow":
        light = light * _shadow(xs, ys, ramp, rng)
    photo = np.clip(surface * light[..., None], 0, 1)
    if condition == "tight":
        photo = _tight_crop(photo, ink, extra == "edge", rng)
        h, w = photo.shape[:2]
    if condition == "perspective":
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        moved = corners + rng.uniform(-0.12, 0.12, size=(4, 2)).astype(np.float32) * np.float32([w, h])
        matrix = cv2.getPerspectiveTransform(corners, moved)
        fill = tuple(float(v) for v in photo[0, 0])
        photo = cv2.warpPerspective(photo.astype(np.float32), matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        del fill
    image = Image.fromarray(np.round(photo * 255).astype(np.uint8))
    blur = (
        rng.uniform(0.8, 1.8)
        if condition == "blur_jpeg"
        else rng.uniform(0.5, 1.0)
        if condition == "ruled_small"
        else rng.uniform(0.0, 0.6)
    )
    if blur > 0.3:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, rng.uniform(1, 4), size=(h, w, 3))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    if condition == "blur_jpeg":
        image.save(buffer, format="JPEG", quality=int(rng.integers(25, 61)))
    elif rng.random() < 0.5:
        image.save(buffer, format="JPEG", quality=int(rng.integers(70, 96)))
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading


def _product(data: bytes, model) -> np.ndarray:
    """The input the product reads for one digit (Try it, `predict`): see digitcore.reading.digit."""
    from digitcore.reading import digit

    return digit.read_digit(preprocess.decode(data), model).prepared.image


def _number(data: bytes, model) -> str:
    from digitcore.reading.number import read_number

    try:
        return read_number(preprocess.decode(data), model).number
    except preprocess.ImageError:
        return ""


def _accuracy_of(model, pages: list[bytes], labels: np.ndarray, prepare) -> float:
    from digitcore import inference

    inputs = []
    for page in pages:
        try:
            inputs.append(prepare(page))
        except preprocess.ImageError:
            inputs.append(None)
    usable = [i for i, x in enumerate(inputs) if x is not None]
    correct = 0
    if usable:
        answers = inference.predict(model, np.stack([inputs[i] for i in usable])).argmax(axis=1)
        correct = int((answers == labels[usable]).sum())
    return round(correct / len(pages), 4)


def _numbers_on_pages(
    model, mnist, condition: str, count: int, digits: int, rng: np.random.Generator, save: Path | None = None
) -> dict:
    """`count` pages of `condition`, each with a `digits`-digit number: the share read exactly by the
    number reader and by the contours-and-boxes baseline, and the number reader's digit accuracy
    (the first 10 pages written to `save`, named by condition, number and what the reader read)."""
    from realnumbers import baseline_read, digit_accuracy

    exact, baseline_exact, digit_scores = [], [], []
    for _ in range(count):
        truth, paths = "", []
        for index in rng.choice(len(mnist.y_test), digits, replace=False):
            if rng.random() < SYNTHETIC_SHARE:
                label = int(rng.choice([0, 1, 7]))
                paths.append(synthetic_path(label, rng))
            else:
                label = int(mnist.y_test[index])
                paths.append(pen_path(mnist.x_test[index]))
            truth += str(label)
        page = render_page(number_path(paths, rng), condition, rng, number=True)
        read = _number(page, model).replace(" ", "")
        if save is not None and len(exact) < 10:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"{condition}_{len(exact):02d}_{truth}_read_{read or 'nothing'}.img").write_bytes(page)
        gray = np.asarray(Image.open(io.BytesIO(page)).convert("L"), dtype=np.float32) / 255.0
        try:
            baseline = baseline_read(gray, model)
        except preprocess.ImageError:
            baseline = ""
        exact.append(read == truth)
        baseline_exact.append(baseline == truth)
        digit_scores.append(digit_accuracy(truth, read))
    return {
        "n": count,
        "number_reader": round(float(np.mean(exact)), 4),
        "number_reader_digits": round(float(np.mean(digit_scores)), 4),
        "baseline": round(float(np.mean(baseline_exact)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--count", type=int, default=250, help="pages per condition (default 250)")
    parser.add_argument("--quick", action="store_true", help="40 pages per condition")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated conditions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="folder to write the first 10 pages of each condition")
    parser.add_argument(
        "--no-number-reader", action="store_true", help="skip the number reader (the slowest of the three)"
    )
    parser.add_argument("--digits", type=int, default=1, help="digits per page (2 or more: numbers; default 1)")
    args = parser.parse_args(argv)
    if args.digits < 1:
        parser.error("--digits must be 1 or more")

    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import data, registry

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    mnist = data.load_mnist()
    count = 40 if args.quick else args.count
    results = {}
    started = time.perf_counter()
    for condition in [name for name in args.conditions.split(",") if name]:
        if condition not in CONDITIONS:
            parser.error(f"unknown condition {condition}; known: {', '.join(CONDITIONS)}")
        rng = np.random.default_rng([args.seed, CONDITIONS.index(condition)])
        if args.digits > 1:
            results[condition] = _numbers_on_pages(model, mnist, condition, count, args.digits, rng, args.save)
            continue
        labels, pages = [], []
        for index in rng.choice(len(mnist.y_test), count, replace=False):
            if rng.random() < SYNTHETIC_SHARE:
                label = int(rng.choice([0, 1, 7]))
                points = synthetic_path(label, rng)
            else:
                label = int(mnist.y_test[index])
                points = pen_path(mnist.x_test[index])
            labels.append(label)
            pages.append(render_page(points, condition, rng))
        truth = np.array(labels)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            for n, page in enumerate(pages[:10]):
                (args.save / f"{condition}_{n:02d}_{labels[n]}.img").write_bytes(page)
        results[condition] = {
            "n": count,
            "product": _accuracy_of(model, pages, truth, lambda page: _product(page, model)),
            "baseline": _accuracy_of(model, pages, truth, baseline_to_mnist),
        }
        if not args.no_number_reader:
            number_right = np.mean([_number(page, model) == str(label) for page, label in zip(pages, labels)])
            results[condition]["number_reader"] = round(float(number_right), 4)
    print(
        json.dumps(
            {
                "model": str(model_path),
                "pages_per_condition": count,
                "seed": args.seed,
                "conditions": results,
                "digits_per_page": args.digits,
                "worst_product": min((r["product"] for r in results.values() if "product" in r), default=None),
                "worst_number_reader": min(
                    (r["number_reader"] for r in results.values() if "number_reader" in r), default=None
                ),
                "target": "every condition >= 0.98 and ahead of the baseline",
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
