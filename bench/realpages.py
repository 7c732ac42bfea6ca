"""Accuracy on real photos of single digits on ruled and squared paper (../shared/realpages), beside the
20-line baseline with the same model, per kind of paper.

Every image goes through the product's predict path (`files.predict_files`, what `python -m
digitcore predict` runs) and through the baseline of bench/realdigits.py; "no digit found" counts as
a miss. Prints one JSON object. The images are evaluation data: read in place, never copied, and
nothing is trained or tuned on them.

    DIGITCORE_DATA_DIR=data/mnist python bench/realpages.py [--dir ../shared/realpages] [--model NAME|PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from realdigits import baseline_to_mnist  # noqa: E402

from digitcore.reading import files, preprocess  # noqa: E402

DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "realpages"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"the set's folder (default {DEFAULT_DIR})")
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    args = parser.parse_args(argv)
    meta_path = args.dir / "meta.json"
    if not meta_path.is_file():
        print(json.dumps({"set": str(args.dir), "error": f"No meta.json in {args.dir}."}))
        return 2
    meta = json.loads(meta_path.read_text())

    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import inference, registry

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    names = sorted(meta)
    answers = list(files.predict_files(model, [args.dir / name for name in names], kind="auto"))
    groups: dict = defaultdict(lambda: [0, 0, 0])  # product right, baseline right, count
    misses = []
    for name, answer in zip(names, answers):
        label, paper = meta[name]["label"], meta[name]["paper"]
        try:
            seen = baseline_to_mnist((args.dir / name).read_bytes())
            baseline = int(inference.predict(model, seen).argmax())
        except preprocess.ImageError:
            baseline = None
        right = answer.get("digit") == label
        for key in (paper, "all"):
            groups[key][0] += int(right)
            groups[key][1] += int(baseline == label)
            groups[key][2] += 1
        if not right:
            misses.append(
                {
                    "file": name,
                    "paper": paper,
                    "label": label,
                    "read": answer.get("digit"),
                    "error": answer.get("error"),
                }
            )

    def score(right: int, total: int) -> float:
        return round(right / total, 4) if total else float("nan")

    report = {
        "set": str(args.dir),
        "model": str(model_path),
        "images": len(names),
        "product": {
            key: {"correct": g[0], "n": g[2], "accuracy": score(g[0], g[2])} for key, g in sorted(groups.items())
        },
        "baseline": {
            key: {"correct": g[1], "n": g[2], "accuracy": score(g[1], g[2])} for key, g in sorted(groups.items())
        },
        "misses": misses,
        "no_answer": int(np.sum([m["read"] is None for m in misses])),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
