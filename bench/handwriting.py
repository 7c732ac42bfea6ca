"""Accuracy on MNIST test digits rendered as people produce them: canvas drawings and paper photos.

Each test digit is thinned to its pen path (skeleton) and redrawn:
- drawing: with a round brush 8-30 px wide, 100-250 px tall, anywhere on a 280x280 RGBA canvas
  (white or black or coloured strokes, on a transparent or coloured background), slightly rotated
  and sheared, as someone with a mouse would;
- photo: with a pen 2-9 px wide, 45-130 px tall, rotated up to 10 degrees, off-centre on a
  640x480 photo of paper with textured fibres, a lighting gradient, vignetting, a soft shadow
  (often across the digit), camera blur and sensor noise, saved as JPEG at quality 45-90.
Both go through `preprocess` (canvas arrays straight to to_mnist; photos through decode first) and
the model; the naive baseline resizes the whole grayscale image to 28x28 (fixing only polarity).
Only MNIST TEST digits are rendered; no model is trained on them. Prints one JSON object.

    DIGITCORE_DATA_DIR=data/mnist python bench/handwriting.py [--model PATH] [--count 1000]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digitcore.reading import digit, preprocess  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Pen paths from MNIST digits


def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image (vectorised): the one-pixel pen path."""
    image = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = image
            p2, p3, p4 = p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:]
            p5, p6, p7 = p[2:, 2:], p[2:, 1:-1], p[2:, :-2]
            p8, p9 = p[1:-1, :-2], p[:-2, :-2]
            neighbours = [p2, p3, p4, p5, p6, p7, p8, p9]
            count = sum(n.astype(np.int32) for n in neighbours)
            sequence = neighbours + [p2]
            transitions = sum(((a == 0) & (b == 1)).astype(np.int32) for a, b in zip(sequence[:-1], sequence[1:]))
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (p[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & cond
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def pen_path(digit: np.ndarray, upsample: int = 4) -> np.ndarray:
    """Skeleton points (n, 2) as (x, y) in MNIST pixel units, centred on the digit's box."""
    big = np.asarray(Image.fromarray(digit).resize((28 * upsample, 28 * upsample), Image.Resampling.BICUBIC))
    skeleton = _thin(big > 110)
    ys, xs = np.nonzero(skeleton)
    points = np.stack([xs, ys], axis=1).astype(np.float64) / upsample
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    return points - centre


def _transform(points: np.ndarray, rng: np.random.Generator, rotation: float, shear: float) -> np.ndarray:
    angle = np.deg2rad(rng.uniform(-rotation, rotation))
    s = rng.uniform(-shear, shear)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[1, s], [0, 1]])
    return points @ matrix.T


def _stamp(size: tuple[int, int], points: np.ndarray, radius: float, supersample: int = 2) -> np.ndarray:
    """Anti-aliased coverage (h, w) float of round brush stamps at the points (pixel coordinates)."""
    width, height = size
    canvas = Image.new("L", (width * supersample, height * supersample), 0)
    draw = ImageDraw.Draw(canvas)
    r = radius * supersample
    for x, y in points * supersample:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas.reduce(supersample), dtype=np.float32) / 255.0


# ---------------------------------------------------------------------------------------------
# Renderers


def render_drawing(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(280, 280, 4) uint8 RGBA, as streamlit-drawable-canvas returns a mouse drawing."""
    points = _transform(pen_path(digit), rng, rotation=8, shear=0.2)
    height = rng.uniform(100, 250)
    extent = np.ptp(points[:, 1]) or 1.0
    points = points * (height / extent)
    brush = rng.uniform(8, 30)
    span = points.max(axis=0) - points.min(axis=0) + brush
    if span.max() > 270:  # a person keeps the whole digit on the pad
        points = points * (270 - brush) / (span.max() - brush)
        span = points.max(axis=0) - points.min(axis=0) + brush
    room = np.maximum(280 - span, 0)
    offset = rng.uniform(0, 1, size=2) * room + brush / 2 - points.min(axis=0)
    coverage = _stamp((280, 280), points + offset, brush / 2)
    style = rng.integers(4)
    rgba = np.zeros((280, 280, 4), dtype=np.float32)
    if style == 0:  # white strokes on a transparent canvas (the app's drawing pad)
        # untouched canvas pixels read back as (0, 0, 0, 0), as a browser's getImageData gives them
        rgba[..., :3], rgba[..., 3] = (coverage > 0)[..., None] * 1.0, coverage
    elif style == 1:  # black strokes on a transparent canvas
        rgba[..., :3], rgba[..., 3] = 0.0, coverage
    else:  # coloured strokes on an opaque coloured background
        stroke = rng.uniform(0, 0.4, size=3) if style == 2 else rng.uniform(0.7, 1.0, size=3)
        background = rng.uniform(0.8, 1.0, size=3) if style == 2 else rng.uniform(0.0, 0.25, size=3)
        rgba[..., :3] = coverage[..., None] * stroke + (1 - coverage[..., None]) * background
        rgba[..., 3] = 1.0
    return np.round(rgba * 255).astype(np.uint8)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    small = rng.normal(size=(cells[1], cells[0])).astype(np.float32)
    return np.asarray(Image.fromarray(small, mode="F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC))


def render_photo(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """JPEG bytes of a 640x480 photo of the digit written with a pen on unevenly lit paper."""
    width, height = 640, 480
    points = _transform(pen_path(digit), rng, rotation=10, shear=0.15)
    digit_height = rng.uniform(45, 130)
    extent = np.ptp(points[:, 1]) or 1.0
    points = points * (digit_height / extent)
    pen = rng.uniform(2, max(2.5, min(9, 0.14 * digit_height)))
    span = points.max(axis=0) - points.min(axis=0) + pen
    margin = 20
    room = np.maximum(np.array([width, height]) - span - 2 * margin, 0)
    offset = margin + rng.uniform(0, 1, size=2) * room + pen / 2 - points.min(axis=0)
    ink = _stamp((width, height), points + offset, pen / 2)
    ink = ink * rng.uniform(0.75, 1.0)  # ballpoint pressure: the ink is not fully opaque
    # paper: warm white with fibres and blotches
    paper_tone = rng.uniform(0.78, 0.95) * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 1.0)])
    texture = 0.025 * _smooth_noise(rng, (height, width), (32, 24)) + 0.015 * _smooth_noise(
        rng, (height, width), (160, 120)
    )
    paper = paper_tone[None, None, :] * (1 + texture[..., None])
    ink_colour = rng.choice([np.array([0.08, 0.08, 0.1]), np.array([0.1, 0.12, 0.35]), np.array([0.3, 0.3, 0.32])])
    ink_colour = ink_colour * rng.uniform(0.7, 1.3)
    surface = paper * (1 - ink[..., None]) + ink_colour[None, None, :] * ink[..., None]
    # light: a gradient in a random direction, vignetting, and often a soft shadow
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = ((xs - width / 2) * np.cos(direction) + (ys - height / 2) * np.sin(direction)) / (width / 2)
    light = rng.uniform(0.55, 1.05) * (1 + rng.uniform(0.1, 0.35) * ramp)
    light *= 1 - rng.uniform(0.1, 0.35) * (((xs - width / 2) / width) ** 2 + ((ys - height / 2) / height) ** 2) * 2
    if rng.random() < 0.7:
        angle = rng.uniform(0, 2 * np.pi)
        through = np.array([rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height])
        side = (xs - through[0]) * np.cos(angle) + (ys - through[1]) * np.sin(angle)
        softness = rng.uniform(3, 40)
        light *= 1 - rng.uniform(0.25, 0.55) * 0.5 * (1 + np.tanh(side / (2 * softness)))  # a logistic edge
    photo = surface * light[..., None]
    image = Image.fromarray(np.clip(photo * 255, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, rng.uniform(2, 7), size=(height, width, 3))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(45, 91)))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Pipelines


def naive(image: Image.Image | np.ndarray) -> np.ndarray:
    """The usual demo: grayscale, invert if the background is light, resize the whole image to 28x28."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if np.median(gray) > 0.5:
        gray = 1.0 - gray
    return np.asarray(Image.fromarray(gray, mode="F").resize((28, 28), Image.Resampling.LANCZOS)).clip(0, 1)


def evaluate(model, images: list, labels: np.ndarray, prepare) -> dict:
    """Accuracy of `prepare` then the model; a NoDigitFound counts as wrong."""
    from digitcore import inference

    inputs, failures = [], 0
    for image in images:
        try:
            inputs.append(prepare(image))
        except preprocess.ImageError:
            inputs.append(np.zeros((28, 28), dtype=np.float32))
            failures += 1
    probabilities = inference.predict(model, np.stack(inputs))
    predicted = probabilities.argmax(axis=1)
    sure = probabilities.max(axis=1) >= inference.UNSURE_THRESHOLD
    return {
        "accuracy": round(float(np.mean(predicted == labels)), 4),
        "rejected": failures,
        "unsure_rate": round(float(np.mean(~sure)), 4),
        "accuracy_when_sure": round(float(np.mean(predicted[sure] == labels[sure])), 4) if sure.any() else None,
        "accuracy_when_unsure": round(float(np.mean(predicted[~sure] == labels[~sure])), 4) if (~sure).any() else None,
        "per_class_accuracy": [round(float(np.mean(predicted[labels == d] == d)), 3) for d in range(10)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--count", type=int, default=1000, help="digits per kind (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-examples", type=Path, help="folder to write the first 20 renders of each kind")
    args = parser.parse_args(argv)

    import digitcore
    from digitcore import data, registry

    digitcore.import_tensorflow_quietly()
    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    mnist = data.load_mnist()
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(len(mnist.y_test), size=min(args.count, len(mnist.y_test)), replace=False)
    labels = mnist.y_test[chosen].astype(np.int64)

    started = time.perf_counter()
    drawings = [render_drawing(mnist.x_test[i], rng) for i in chosen]
    photos = [render_photo(mnist.x_test[i], rng) for i in chosen]
    render_seconds = time.perf_counter() - started
    if args.save_examples:
        args.save_examples.mkdir(parents=True, exist_ok=True)
        for n in range(min(20, len(chosen))):
            Image.fromarray(drawings[n]).save(args.save_examples / f"drawing_{n:02d}_{labels[n]}.png")
            (args.save_examples / f"photo_{n:02d}_{labels[n]}.jpg").write_bytes(photos[n])

    started = time.perf_counter()
    results = {
        "drawings": evaluate(model, drawings, labels, lambda image: preprocess.to_mnist(image).image),
        "photos": evaluate(
            model, photos, labels, lambda jpeg: digit.read_digit(preprocess.decode(jpeg), model).prepared.image
        ),
    }
    pipeline_seconds = time.perf_counter() - started
    baseline = {
        "drawings": evaluate(model, drawings, labels, naive),
        "photos": evaluate(model, photos, labels, lambda jpeg: naive(preprocess.decode(jpeg))),
    }
    card = registry.read_card(model_path)
    print(
        json.dumps(
            {
                "model": str(model_path),
                "model_test_accuracy": card.test_accuracy if card is not None else None,
                "digits_per_kind": len(chosen),
                "source": f"MNIST test set (never trained on), seed {args.seed}",
                "pipeline": results,
                "naive_resize_baseline": baseline,
                "targets": {"drawings": 0.92, "photos": 0.90},
                "met": {
                    "drawings": results["drawings"]["accuracy"] >= 0.92,
                    "photos": results["photos"]["accuracy"] >= 0.90,
                },
                "render_seconds": round(render_seconds, 1),
                "pipeline_seconds": round(pipeline_seconds, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
