"""Benchmark: the Train page's clicks, end to end: what the page promised against what happened (JSON out).

For each case the page offers (the default click: DigitNet's fast recipe on all 60,000 digits; the
fast recipe on 6,000 digits; the fast995 recipe), computes the page's estimate and expected accuracy
before the click exactly as the page does (estimates.py over the shipped models' cards and the
measured runs), starts the job through the same JobManager in a throwaway models folder, and
reports the seconds from the click to the saved model and the test accuracy beside them: the time
within ±25 % and the accuracy within 0.5 points of the promised range are the targets. Then it
starts the default click once more and presses Stop mid-epoch: the seconds from the click on Stop
to the end of fitting and to the job's end. The load average is reported: a busy machine is slower.

    python bench/train_click.py [--cases default_click six_thousand fast995] [--skip-stop]
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
from digitcore.run_plan import RunPlan  # noqa: E402

CASES = {
    "default_click": ("fast", TRAINING_DIGITS),
    "six_thousand": ("fast", 6000),
    "fast995": ("fast995", TRAINING_DIGITS),
}


def promise(which: str, digits: int):
    """(recipe, estimated seconds, expectation) as the page computes them before the click."""
    preset = get_preset(DEFAULT_PRESET)
    recipe = preset.recipes[which].watched().sized_for(digits)
    shipped = [entry.card for entry in registry.list_models() if entry.problem is None and entry.card is not None]
    runs = [*estimates.past_runs(shipped), *estimates.measured_runs()]
    fitted = recipe.fitted_digits(digits)
    plan = RunPlan(epochs=recipe.epochs, fitted=fitted, held_out=digits - fitted, batch_size=recipe.batch_size)
    pace = estimates.pace_for(runs, preset.name, recipe.to_dict())
    seconds = None if pace is None else estimates.estimate(pace, plan, recipe.to_dict()).seconds
    return recipe, seconds, estimates.expected_accuracy(runs, preset, which, recipe.to_dict(), digits)


def run_case(name: str, folder: Path) -> dict:
    which, digits = CASES[name]
    recipe, estimated, expected = promise(which, digits)
    manager = jobs.JobManager(folder)
    clicked = time.perf_counter()
    manager.start(
        DEFAULT_PRESET,
        name=registry.free_name(f"click_{name}", folder),
        recipe=recipe,
        limit=None if digits >= TRAINING_DIGITS else digits,
        estimated_seconds=estimated,
        accuracy_floor=None if expected is None else expected.floor,
    )
    final = manager.wait(timeout=3600)
    seconds = time.perf_counter() - clicked
    result = final.result if final is not None else None
    test_accuracy = getattr(result, "test_accuracy", None)
    within_time = None if estimated is None else abs(seconds - estimated) <= 0.25 * seconds
    within_accuracy = (
        None
        if expected is None or test_accuracy is None
        else expected.low - 0.005 <= test_accuracy <= expected.high + 0.005
    )
    return {
        "case": name,
        "recipe_name": which,
        "training_digits": digits,
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "state": final.state if final else None,
        "error": final.error if final else None,
        "click_to_saved_seconds": round(seconds, 1),
        "estimate_before_click_seconds": None if estimated is None else round(estimated, 1),
        "time_error_percent": None if estimated is None else round(100 * (estimated - seconds) / seconds, 1),
        "time_within_25_percent": within_time,
        "test_accuracy": test_accuracy,
        "expected_accuracy_range": None if expected is None else [round(expected.low, 4), round(expected.high, 4)],
        "expected_from": None if expected is None else expected.source,
        "accuracy_within_half_a_point": within_accuracy,
        "warning": getattr(result, "warning", None),
        "curve_points": len(final.curve) if final else 0,
    }


def stop_latency(folder: Path) -> dict:
    """The default click, stopped a third of the way into its epoch."""
    recipe, _, _ = promise("fast", TRAINING_DIGITS)
    manager = jobs.JobManager(folder)
    manager.start(DEFAULT_PRESET, name=registry.free_name("click_stopped", folder), recipe=recipe)
    while True:  # queued, then starting, then fitting: stop it a third of the way through
        snapshot = manager.snapshot()
        if snapshot is None or not snapshot.active or (snapshot.running and snapshot.overall_progress >= 0.33):
            break
        time.sleep(0.05)
    clicked = time.perf_counter()
    progress_at_click = snapshot.overall_progress if snapshot else None
    manager.stop()
    while True:
        snapshot = manager.snapshot()
        if snapshot is None or not snapshot.active:
            break
        time.sleep(0.02)
    ended = time.perf_counter() - clicked
    return {
        "case": "stop_default_click",
        "progress_at_stop": None if progress_at_click is None else round(progress_at_click, 3),
        "progress_at_end": None if snapshot is None else round(snapshot.overall_progress, 3),
        "stop_to_job_end_seconds": round(ended, 2),
        "state": snapshot.state if snapshot else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--skip-stop", action="store_true", help="leave out the stop measurement")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="train-click-"))
    load_before = os.getloadavg()
    try:
        results = [run_case(name, folder) for name in args.cases]
        if not args.skip_stop:
            results.append(stop_latency(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "train_click",
                "cases": results,
                "load_average_before": [round(value, 2) for value in load_before],
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
