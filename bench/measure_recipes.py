"""Measure the Train page's recipes on this machine: what the Train page promises before a click.

Runs each DigitNet recipe the page offers, as the page runs it (5 % of the chosen digits held out
for the validation curve, the recipe sized for the subset), on several subset sizes and seeds,
through the same JobManager as the page, and writes every run (its settings, test accuracy and
where its seconds went) to digitcore/assets/measured_runs.json, which digitcore/estimates.py reads.
The expected accuracy of a subset between two measured ones is interpolated; outside them the page
promises nothing. Prints the runs as JSON too.

    python bench/measure_recipes.py [--seeds 0 1] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import digitcore  # noqa: E402

digitcore.import_tensorflow_quietly()

from digitcore import estimates, jobs, registry  # noqa: E402
from digitcore.architectures import DEFAULT_PRESET, TRAINING_DIGITS, get_preset  # noqa: E402

# The subsets the page's accuracy promise is measured on, per recipe (the full recipe's 40 epochs
# are measured by the shipped models' cards on all 60,000 digits; a subset of it is not promised).
SUBSETS = {
    "fast": [200, 1000, 3000, 6000, 20000, TRAINING_DIGITS],
    "fast995": [1000, 6000, TRAINING_DIGITS],
}


def measure(preset_name: str, which: str, digits: int, seed: int, folder: Path) -> estimates.PastRun:
    preset = get_preset(preset_name)
    recipe = preset.recipes[which].watched().sized_for(digits)
    manager = jobs.JobManager(folder)
    name = registry.free_name(f"measure_{which}_{digits}_{seed}", folder)
    manager.start(preset.name, name=name, recipe=recipe, limit=None if digits >= TRAINING_DIGITS else digits, seed=seed)
    final = manager.wait(timeout=3600)
    if final is None or final.error:
        raise SystemExit(f"{name} failed: {final and final.error}")
    card = registry.read_card(folder / f"{name}.keras")
    (run,) = estimates.past_runs([card])
    return estimates.PastRun(
        **{
            **run.__dict__,
            "source": f"`bench/measure_recipes.py`: the {which} recipe on {digits:,} digits, seed {seed}",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--quick", action="store_true", help="one small subset per recipe (a check that it runs)")
    parser.add_argument("--output", type=Path, default=estimates.MEASURED_RUNS)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="RECIPE:DIGITS",
        help="measure these again (e.g. fast:60000) and replace their runs of the same seeds in the file, "
        "keeping the others: timings taken on a busy machine are re-taken on a quiet one",
    )
    args = parser.parse_args()
    subsets = {which: sizes[:1] for which, sizes in SUBSETS.items()} if args.quick else SUBSETS
    kept: list[dict] = []
    if args.only:
        subsets = {}
        for item in args.only:
            which, digits = item.split(":")
            subsets.setdefault(which, []).append(int(digits))
        previous = json.loads(args.output.read_text())["runs"]
        kept = [
            run
            for run in previous
            if not any(
                f"the {which} recipe on {digits:,} digits, seed {seed}" in run["source"]
                for which, sizes in subsets.items()
                for digits in sizes
                for seed in args.seeds
            )
        ]
    runs = []
    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="measure-recipes-") as folder:
        for which, sizes in subsets.items():
            for digits in sizes:
                for seed in args.seeds:
                    run = measure(DEFAULT_PRESET, which, digits, seed, Path(folder))
                    print(json.dumps({"recipe": which, **run.__dict__}), flush=True)
                    runs.append(run.__dict__)
    record = {
        "measured_at": datetime.date.today().isoformat(),
        "command": "python bench/measure_recipes.py " + " ".join(sys.argv[1:]),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "seconds": round(time.time() - started),
        "cpus": os.cpu_count(),
        "runs": kept + runs,
    }
    if not args.quick:
        args.output.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "runs"}))


if __name__ == "__main__":
    main()
