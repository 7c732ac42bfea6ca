"""Accuracy on real people's handwritten digits (../shared/realdigits), beside a 20-line baseline.

Every image goes through the product's own predict path (`files.predict_files`, the code that
`python -m digitcore predict --kind auto` runs) with one model. The same model also reads each image
through the simple pipeline of issue 11 (grayscale; invert a light background; keep pixels above
mean + one standard deviation; crop the ink; fit 20x20; centre by mass in 28x28), so the two are
compared in the same run. "No digit found" and every other error count as misses.

Prints one JSON object: accuracy per kind, per label and per source repository, the confusion matrix
(row = true digit, column = answer, column 10 = no answer), the baseline per kind and every miss.
Writes a contact sheet of the misses (the input, the 28x28 the model saw, the answer) to
test-artefacts/realdigits_misses.png. The images are evaluation data: they are read in place and
never copied, and no model is trained on them.

    python -m digitcore bench realdigits [--dir ../shared/realdigits] [--model NAME|PATH] [--sheet PNG]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from digitcore.reading import files, preprocess  # noqa: E402
from digitcore.reading.digit import read_digit  # noqa: E402

DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "realdigits"
DEFAULT_SHEET = PROJECT_ROOT / "test-artefacts" / "realdigits_misses.png"
KIND_ORDER = ("photo", "drawing", "drawing_28px", "paper_28px")
NO_ANSWER = 10  # confusion-matrix column for "no digit found" and other errors
THUMB = 112  # contact-sheet cell side in pixels
# The default and the two most accurate reference architectures by their cards: other layouts make
# other mistakes (the shipped DigitNet ensemble is scored like any model, with --model).
ENSEMBLE = ("digitnet", "conv_relu_pool", "keras_mnist_cnn")


def load_set(directory: Path) -> list[dict]:
    """The set's entries from meta.json, each with its "file" path added, sorted by file name."""
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"No meta.json in {directory}: is this the realdigits folder?")
    meta = json.loads(meta_path.read_text())
    return [dict(entry, name=name, file=directory / name) for name, entry in sorted(meta.items())]


# ---------------------------------------------------------------------------------------------
# The 20-line baseline of issue 11


def baseline_to_mnist(data: bytes) -> np.ndarray:
    """Grayscale; invert a light background; keep pixels above mean + 1 std; crop; fit 20x20; centre by mass."""
    gray = np.asarray(preprocess.decode(data).convert("L"), dtype=np.float32) / 255.0
    if np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])) > 0.5:
        gray = 1.0 - gray  # light background: make the ink white on black as in MNIST
    ink = np.where(gray > gray.mean() + gray.std(), gray, 0.0)
    return baseline_centre(ink)


def baseline_centre(ink: np.ndarray) -> np.ndarray:
    """The baseline's last steps on a white-on-black ink map: crop the ink; fit 20x20; centre by mass."""
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        raise preprocess.NoDigitFound("No pixel above mean + one standard deviation.")
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].astype(np.float32)
    scale = 20.0 / max(crop.shape)
    width, height = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    fitted = np.asarray(Image.fromarray(crop, mode="F").resize((width, height), Image.Resampling.LANCZOS))
    fitted = np.clip(fitted, 0.0, None) / max(float(fitted.max()), 1e-6)
    total = max(float(fitted.sum()), 1e-6)
    row_mass = float((fitted.sum(axis=1) * np.arange(height)).sum()) / total
    col_mass = float((fitted.sum(axis=0) * np.arange(width)).sum()) / total
    top = int(np.clip(round(14 - row_mass), 0, 28 - height))
    left = int(np.clip(round(14 - col_mass), 0, 28 - width))
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[top : top + height, left : left + width] = fitted
    return digit


# ---------------------------------------------------------------------------------------------
# Scoring


def _accuracy(hits: int, total: int) -> dict:
    return {"correct": hits, "n": total, "accuracy": round(hits / total, 4) if total else None}


def _group(results: list[dict], key: str, order=None) -> dict:
    groups: dict = defaultdict(lambda: [0, 0])
    for result in results:
        groups[result[key]][0] += result["correct"]
        groups[result[key]][1] += 1
    keys = [k for k in order if k in groups] if order else sorted(groups)
    return {str(k): _accuracy(*groups[k]) for k in keys}


def contact_sheet(misses: list[dict], path: Path, columns: int = 6) -> Path | None:
    """One cell per miss: the input thumbnail, the 28x28 the model saw, file, truth and answer."""
    if not misses:
        return None
    cell_w, cell_h = 2 * THUMB + 12, THUMB + 40
    rows = (len(misses) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for index, miss in enumerate(misses):
        x, y = (index % columns) * cell_w, (index // columns) * cell_h
        try:
            thumb = preprocess.decode(miss["file"].read_bytes()).convert("RGB")
            thumb.thumbnail((THUMB, THUMB))
            sheet.paste(thumb, (x + 4, y + 4))
        except preprocess.ImageError:
            draw.text((x + 4, y + 4), "unreadable", fill="red")
        if miss["model_input"] is not None:
            seen = Image.fromarray(np.round(miss["model_input"] * 255).astype(np.uint8))
            sheet.paste(seen.resize((THUMB, THUMB), Image.Resampling.NEAREST), (x + THUMB + 8, y + 4))
        answer = "no answer" if miss["predicted"] is None else str(miss["predicted"])
        draw.text((x + 4, y + THUMB + 6), miss["name"][:36], fill="black")
        draw.text((x + 4, y + THUMB + 20), f"{miss['kind']}: true {miss['label']}, read {answer}", fill="red")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"the set's folder (default {DEFAULT_DIR})")
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--sheet", type=Path, default=DEFAULT_SHEET, help="contact sheet of the misses (PNG)")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also score test-time augmentation and ensembles of the shipped models, with model-call latency",
    )
    parser.add_argument(
        "--ensemble",
        default=",".join(ENSEMBLE),
        help=f"models averaged by --variants (default: {','.join(ENSEMBLE)}, the default and two reference architectures)",
    )
    args = parser.parse_args(argv)

    try:
        entries = load_set(args.dir)
    except FileNotFoundError as error:
        print(json.dumps({"set": str(args.dir), "error": str(error)}))
        return 2
    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import inference, registry

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)

    started = time.perf_counter()
    answers = list(files.predict_files(model, [entry["file"] for entry in entries], kind="auto"))
    product_seconds = time.perf_counter() - started

    results, misses = [], []
    confusion = np.zeros((10, 11), dtype=np.int64)
    baseline_inputs, baseline_index = [], []
    for entry, answer in zip(entries, answers):
        predicted = answer.get("digit")
        correct = predicted == entry["label"]
        confusion[entry["label"], NO_ANSWER if predicted is None else predicted] += 1
        results.append({"kind": entry["kind"], "label": entry["label"], "repo": entry["repo"], "correct": int(correct)})
        if not correct:
            try:  # what the model saw (the same reading predict_files ran)
                seen = read_digit(preprocess.decode(entry["file"].read_bytes()), model).prepared.image
            except preprocess.ImageError:
                seen = None
            misses.append(
                dict(
                    entry,
                    predicted=predicted,
                    error=answer.get("error"),
                    model_input=seen,
                    confidence=answer.get("confidence"),
                )
            )
        try:
            baseline_inputs.append(baseline_to_mnist(entry["file"].read_bytes()))
            baseline_index.append(len(results) - 1)
        except preprocess.ImageError:
            pass
    baseline_correct = np.zeros(len(results), dtype=int)
    if baseline_inputs:
        answers_baseline = inference.predict(model, np.stack(baseline_inputs)).argmax(axis=1)
        for index, answer_digit in zip(baseline_index, answers_baseline):
            baseline_correct[index] = int(answer_digit == results[index]["label"])
    baseline_results = [dict(result, correct=int(hit)) for result, hit in zip(results, baseline_correct)]

    by_name = {entry["name"]: int(hit) for entry, hit in zip(entries, baseline_correct)}
    for miss in misses:
        miss["baseline_correct"] = bool(by_name[miss["name"]])
    baseline_only = [
        entry["name"] for entry, result, hit in zip(entries, results, baseline_correct) if hit and not result["correct"]
    ]
    sheet = contact_sheet(misses, args.sheet)
    report = {
        "set": str(args.dir),
        "model": str(model_path),
        "images": len(results),
        "overall": _accuracy(sum(r["correct"] for r in results), len(results)),
        "per_kind": _group(results, "kind", KIND_ORDER),
        "baseline_overall": _accuracy(int(baseline_correct.sum()), len(results)),
        "baseline_per_kind": _group(baseline_results, "kind", KIND_ORDER),
        "per_label": _group(results, "label"),
        "per_repo": _group(results, "repo"),
        "confusion_matrix": {
            "rows": "true digit 0-9",
            "columns": "answer 0-9, then no answer",
            "counts": confusion.tolist(),
        },
        "no_answer": int(confusion[:, NO_ANSWER].sum()),
        "misses": [
            {
                "file": m["name"],
                "kind": m["kind"],
                "label": m["label"],
                "predicted": m["predicted"],
                "confidence": m["confidence"],
                "error": m["error"],
                "baseline_correct": m["baseline_correct"],
            }
            for m in misses
        ],
        "baseline_right_product_wrong": baseline_only,
        "contact_sheet": str(sheet) if sheet else None,
        "product_ms_per_image": round(1000 * product_seconds / max(1, len(results)), 1),
    }
    if args.variants:
        report["variants"] = score_variants(
            entries, model, [name for name in args.ensemble.split(",") if name], args.models_dir
        )
    print(json.dumps(report, indent=1))
    return 0


# ---------------------------------------------------------------------------------------------
# Test-time augmentation and ensembles (measured, not shipped)


def shifted_copies(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) -> (n, 5, 28, 28): each image and its copies moved one pixel up, down, left, right."""
    copies = [images]
    for shift, axis in ((1, 1), (-1, 1), (1, 2), (-1, 2)):
        copies.append(np.roll(images, shift, axis=axis))
    return np.stack(copies, axis=1)


def _p50_ms(call, calls: int = 300) -> float:
    for _ in range(20):
        call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(float(np.percentile(times, 50)) * 1000, 3)


def score_variants(entries: list[dict], model, ensemble_names: list[str], models_dir) -> dict:
    """Per-kind accuracy of the default model alone, with test-time shifts, and averaged with other
    shipped models (2 and 3 models), on the same preprocessed inputs; and each one's model-call p50."""
    from digitcore import inference, registry

    images, labels, kinds = [], [], []
    for entry in entries:
        try:
            images.append(preprocess.to_mnist(preprocess.decode(entry["file"].read_bytes()), kind="auto").image)
        except preprocess.ImageError:
            images.append(None)
        labels.append(entry["label"])
        kinds.append(entry["kind"])
    ok = [index for index, image in enumerate(images) if image is not None]
    batch = np.stack([images[index] for index in ok])
    members = [registry.load(registry.resolve(name, models_dir)) for name in ensemble_names]
    probabilities = {"default": inference.predict(model, batch)}
    tta = inference.predict(model, shifted_copies(batch).reshape(-1, 28, 28)).reshape(len(batch), 5, 10)
    probabilities["default+shifts(5)"] = tta.mean(axis=1)
    member_probabilities = [inference.predict(member, batch) for member in members]
    for size in range(2, len(members) + 1):
        name = "ensemble(" + "+".join(ensemble_names[:size]) + ")"
        probabilities[name] = np.mean(member_probabilities[:size], axis=0)
    one = batch[:1]
    latency = {
        "default": _p50_ms(lambda: inference.predict(model, one)),
        "default+shifts(5)": _p50_ms(lambda: inference.predict(model, shifted_copies(one).reshape(-1, 28, 28))),
    }
    for size in range(2, len(members) + 1):
        name = "ensemble(" + "+".join(ensemble_names[:size]) + ")"
        latency[name] = _p50_ms(lambda size=size: [inference.predict(member, one) for member in members[:size]])
    results = {}
    for name, values in probabilities.items():
        answers = dict(zip(ok, values.argmax(axis=1)))
        scored = [
            {"kind": kind, "correct": int(answers.get(index) == label)}
            for index, (kind, label) in enumerate(zip(kinds, labels))
        ]
        results[name] = {
            "overall": _accuracy(sum(r["correct"] for r in scored), len(scored)),
            "per_kind": _group(scored, "kind", KIND_ORDER),
            "model_call_p50_ms": latency[name],
        }
    return results


if __name__ == "__main__":
    raise SystemExit(main())
