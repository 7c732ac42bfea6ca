"""Latency of one 280x280 canvas drawing -> preprocessing -> default model -> probabilities, and peak RSS.

Targets (issue 4): p50 <= 5 ms, p95 <= 15 ms on the 2-core CI machine. Prints one JSON object.
Also timed: one photo of a digit on ruled paper as Try it reads it (decode, then
digitcore.reading.digit.read_digit: the preparation, the model and the guard, and the page stage's
second look when the reading is unsure),
and reading a 4-digit number from a photo on ruled paper (decode, digitcore.reading.number.read_number:
the page stage, the glyphs and one model call for all of them; target, issue 26: p50 <= 60 ms).
Every ensemble in the models folder is timed in the same run (model call only, same digits), with
its ratio to the default model's call.

    DIGITCORE_DATA_DIR=data/mnist python bench/latency.py [--model PATH] [--calls 300] [--warmup 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000.0, q)), 3)


def ensemble_latency(entry, images: list, args, single_model_calls: list[float]) -> dict:
    """One ensemble's model call on the same digits as the default model's, and the ratio of the two."""
    from digitcore import ensemble, inference, registry

    model = registry.load(entry.path)
    for n in range(args.warmup):
        inference.predict(model, images[n % len(images)])
    calls = []
    for n in range(args.calls):
        started = time.perf_counter()
        inference.predict(model, images[n % len(images)])
        calls.append(time.perf_counter() - started)
    return {
        "model": entry.name,
        "members": ensemble.members_of(entry.card),
        "test_accuracy": entry.card.test_accuracy,
        "model_p50_ms": _percentile_ms(calls, 50),
        "model_p95_ms": _percentile_ms(calls, 95),
        "p50_ratio_to_default_model": round(float(np.median(calls) / np.median(single_model_calls)), 2),
    }


def _paper_photos(mnist, rng: np.random.Generator) -> tuple[list[bytes], list[bytes]]:
    """JPEG photos on grainy ruled paper (tilted lines): 16 of one digit and 16 of a 4-digit number, 640x480."""
    import io

    from PIL import Image, ImageDraw

    def photo(indices) -> bytes:
        width, height = 640, 480
        ink = np.zeros((height, width), dtype=np.float32)
        left = int(rng.integers(40, 120))
        for index in indices:
            digit = Image.fromarray(mnist.x_test[index]).resize((110, 110), Image.Resampling.BICUBIC)
            ink[180:290, left : left + 110] = np.maximum(ink[180:290, left : left + 110], np.asarray(digit) / 255.0)
            left += int(rng.integers(80, 110))
        paper = Image.new("RGB", (width, height), (236, 232, 220))
        draw = ImageDraw.Draw(paper)
        slope = np.tan(np.radians(rng.uniform(-6, 6)))
        for y in range(-60, height + 60, 44):
            draw.line([(0, y), (width, y + slope * width)], fill=(150, 170, 215), width=2)
        colour = np.asarray(paper, dtype=np.float32) * (1 - ink[..., None]) + np.array([30, 35, 90]) * ink[..., None]
        colour = colour + rng.normal(0, 10, size=colour.shape)  # a camera's grain: read as a photo, not a drawing
        buffer = io.BytesIO()
        Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=88)
        return buffer.getvalue()

    singles = [photo([int(i)]) for i in rng.choice(len(mnist.y_test), 16, replace=False)]
    numbers = [photo([int(i) for i in rng.choice(len(mnist.y_test), 4, replace=False)]) for _ in range(16)]
    return singles, numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--calls", type=int, default=300, help="timed calls after warm-up (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    args = parser.parse_args(argv)
    if args.calls < 200:
        parser.error("use at least 200 timed calls")

    import digitcore

    digitcore.import_tensorflow_quietly()
    from handwriting import render_drawing

    from digitcore import data, ensemble, inference, not_a_digit, registry
    from digitcore.reading import preprocess

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    mnist = data.load_mnist()
    rng = np.random.default_rng(0)
    # different drawings, so no cache anywhere can answer from a previous call
    canvases = [render_drawing(mnist.x_test[i], rng) for i in range(32)]

    started = time.perf_counter()
    inference.classify(model, preprocess.to_mnist(canvases[0]).image)
    first_call_ms = (time.perf_counter() - started) * 1000.0
    for n in range(args.warmup):
        image = preprocess.to_mnist(canvases[n % len(canvases)]).image
        inference.classify(model, image)
        not_a_digit.check(image)

    total, prepare, model_only, guard = [], [], [], []
    for n in range(args.calls):
        canvas = canvases[n % len(canvases)]
        t0 = time.perf_counter()
        prepared = preprocess.to_mnist(canvas)
        t1 = time.perf_counter()
        probabilities = inference.predict(model, prepared.image)
        t2 = time.perf_counter()
        not_a_digit.check(prepared.image)  # what Try it and predict add: is it a digit at all?
        t3 = time.perf_counter()
        if probabilities.shape != (1, 10):
            raise RuntimeError(f"expected ten probabilities, got shape {probabilities.shape}")
        total.append(t2 - t0)
        prepare.append(t1 - t0)
        model_only.append(t2 - t1)
        guard.append(t3 - t2)

    photos, numbers = _paper_photos(mnist, rng)
    photo_times, number_times = [], []
    from digitcore.reading.digit import read_digit
    from digitcore.reading.number import read_number

    for n in range(args.warmup):
        read_number(preprocess.decode(numbers[n % len(numbers)]), model)
    for n in range(max(50, args.calls // 4)):
        t0 = time.perf_counter()
        read_digit(preprocess.decode(photos[n % len(photos)]), model)  # as Try it reads a photo of one digit
        t1 = time.perf_counter()
        read_number(preprocess.decode(numbers[n % len(numbers)]), model)
        t2 = time.perf_counter()
        photo_times.append(t1 - t0)
        number_times.append(t2 - t1)

    ensembles = [
        ensemble_latency(entry, [preprocess.to_mnist(canvas).image for canvas in canvases], args, model_only)
        for entry in registry.list_models(args.models_dir)
        if entry.problem is None and ensemble.members_of(entry.card)
    ]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    p50, p95 = _percentile_ms(total, 50), _percentile_ms(total, 95)
    print(
        json.dumps(
            {
                "model": str(model_path),
                "input": "280x280 RGBA canvas drawing",
                "calls": args.calls,
                "p50_ms": p50,
                "p95_ms": p95,
                "preprocess_p50_ms": _percentile_ms(prepare, 50),
                "preprocess_p95_ms": _percentile_ms(prepare, 95),
                "model_p50_ms": _percentile_ms(model_only, 50),
                "model_p95_ms": _percentile_ms(model_only, 95),
                # the not-a-digit guard, timed apart (the targets are for the digit answer itself)
                "not_a_digit_p50_ms": _percentile_ms(guard, 50),
                "not_a_digit_p95_ms": _percentile_ms(guard, 95),
                "first_call_ms": round(first_call_ms, 1),
                "ruled_photo_p50_ms": _percentile_ms(photo_times, 50),
                "ruled_photo_p95_ms": _percentile_ms(photo_times, 95),
                "number_photo_4_digits_p50_ms": _percentile_ms(number_times, 50),
                "number_photo_4_digits_p95_ms": _percentile_ms(number_times, 95),
                "number_target_p50_ms": 60.0,
                "ensembles": ensembles,
                "peak_rss_mb": round(peak_rss_mb, 1),
                "targets": {"p50_ms": 5.0, "p95_ms": 15.0},
                "met": p50 <= 5.0 and p95 <= 15.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
