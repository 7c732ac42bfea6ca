"""Benchmark: the Train page's default click, end to end (JSON out).

Starts the job the page starts when a visitor presses Train without changing anything (DigitNet's
fast recipe on all 60,000 digits, 5 % held out for the validation curve) through the same
JobManager, in a throwaway models folder, and reports the seconds from the click to the saved
model, the fit time, the page's estimate before the click, and the training, validation and test
accuracy. The load average is reported too: the machine is shared, and a busy one is slower.

    python bench/train_click.py [--models-dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digitcore  # noqa: E402

digitcore.import_tensorflow_quietly()

from digitcore import estimates, jobs, registry  # noqa: E402
from digitcore.architectures import DEFAULT_PRESET, TRAINING_DIGITS, get_preset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, help="throwaway models folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the models folder and its model")
    args = parser.parse_args()
    folder = args.models_dir or Path(tempfile.mkdtemp(prefix="train-click-"))
    preset = get_preset(DEFAULT_PRESET)
    which = next(iter(preset.recipes))  # the page's first (default) recipe
    recipe = preset.recipes[which].sized_for(TRAINING_DIGITS).watched()
    shipped = [entry.card for entry in registry.list_models() if entry.problem is None]
    pace = estimates.pace_for(
        shipped, preset, which, batch_size=recipe.batch_size, augmented=recipe.augmentation.enabled
    )
    estimate = (
        None
        if pace is None
        else estimates.estimate(
            pace,
            epochs=recipe.epochs,
            training_digits=TRAINING_DIGITS,
            validation_split=recipe.validation_split,
            batch_size=recipe.batch_size,
            augmented=recipe.augmentation.enabled,
        ).seconds
    )
    load_before = os.getloadavg()
    manager = jobs.JobManager(folder)
    clicked = time.perf_counter()
    manager.start(preset.name, name=registry.free_name(f"my_{preset.name}", folder), recipe=recipe)
    final = manager.wait(timeout=1800)
    seconds = time.perf_counter() - clicked
    result = final.result or {}
    print(
        json.dumps(
            {
                "benchmark": "train_click",
                "preset": preset.name,
                "recipe_name": which,
                "recipe": recipe.to_dict(),
                "state": final.state,
                "error": final.error,
                "click_to_saved_seconds": round(seconds, 1),
                "fit_seconds": result.get("seconds"),
                "estimate_before_click_seconds": None if estimate is None else round(estimate, 1),
                "train_accuracy": result.get("train_accuracy"),
                "validation_accuracy": result.get("validation_accuracy"),
                "test_accuracy": result.get("test_accuracy"),
                "warning": result.get("warning"),
                "load_average_before": [round(value, 2) for value in load_before],
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )
    if not args.keep and args.models_dir is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
