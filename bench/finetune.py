"""Fine-tuning the default model on a user who writes sevens with a bar: before and after (JSON out).

The "user" is a handful of MNIST TRAINING sevens with a bar drawn across the stem (as My digits
would hold them). The default model is fine-tuned on them with `training.finetune` (heavy
augmentation, replayed MNIST digits) into a temporary folder, then scored before and after on the
10,000 MNIST test digits and on the barred-seven probe, built from the TEST sevens (never trained on).
Target (issue 6): the MNIST test accuracy drops by at most 0.2 points.

    python bench/finetune.py [--model NAME|PATH] [--samples 20] [--epochs 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--samples", type=int, default=20, help="barred sevens the user saved (default 20)")
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import data, evaluation, inference, probes, registry, training

    mnist = data.load_mnist()
    rng = np.random.default_rng(args.seed)
    train_sevens = np.flatnonzero(mnist.y_train == 7)
    chosen = rng.choice(train_sevens, size=args.samples, replace=False)
    x_user = np.stack([probes.add_bar(image) for image in mnist.x_train[chosen]])
    y_user = np.full(args.samples, 7, dtype=np.uint8)
    x_probe, y_probe = probes.probe_set("barred_sevens", mnist.x_test, mnist.y_test, limit=None)

    parent = registry.resolve(args.model)

    def scores(model) -> dict:
        test = inference.predict(model, data.to_float(mnist.x_test)).argmax(axis=1)
        probe = inference.predict(model, data.to_float(x_probe)).argmax(axis=1)
        return {
            "mnist_test_accuracy": evaluation.accuracy(mnist.y_test, test),
            "barred_sevens_accuracy": evaluation.accuracy(y_probe, probe),
        }

    before = scores(registry.load(parent))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / parent.name
        copy.write_bytes(parent.read_bytes())
        Path(folder, parent.with_suffix(".json").name).write_bytes(parent.with_suffix(".json").read_bytes())
        began = time.perf_counter()
        result = training.finetune(
            copy,
            x_user,
            y_user,
            epochs=args.epochs,
            seed=args.seed,
            name="bench-ft",
            models_directory=Path(folder),
            mnist=mnist,
        )
        seconds = time.perf_counter() - began
        after = scores(registry.load(Path(folder) / "bench-ft.keras"))
    drop = 100 * (before["mnist_test_accuracy"] - after["mnist_test_accuracy"])
    print(
        json.dumps(
            {
                "benchmark": "finetune",
                "model": parent.stem,
                "user_samples": args.samples,
                "epochs": args.epochs,
                "before": before,
                "after": after,
                "mnist_drop_points": round(drop, 3),
                "within_0_2_points": drop <= 0.2,
                "finetune_seconds": round(seconds, 1),
                "probe_sevens": int(len(y_probe)),
                "finetune_result_drop_points": result.get("mnist_drop_points"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
