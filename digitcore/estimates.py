"""What a training run will cost and score here, from runs this machine already finished.

Pure functions (no Keras) over past runs: the cards of models trained here, and the runs measured
on this machine for the Train page's recipes (`bench/measure_recipes.py` writes them into
`digitcore/assets/measured_runs.json`). The Train page says before the click how long a run takes
and what test accuracy to expect, with where each number comes from; the job refines the time left
while it runs.

A run's seconds are modelled as fixed costs (starting the job process, the first compiled call,
scoring the test digits) plus the digits fitted at a steady pace plus the digits its validation
points read (run_plan.py says how many): a 6,000-digit run of ten epochs and a 60,000-digit run of
one then predict each other, which a single "digits per second" did not (its validations slowed the
short run's pace by half).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from digitcore.cards import ModelCard
from digitcore.limits import TRAINING_DIGITS
from digitcore.recipes import Augmentation
from digitcore.run_plan import RunPlan

# Fixed costs when no past run recorded them (measured on this 2-core machine, DigitNet's fast
# recipe): from the click to the first batch, starting a process, importing TensorFlow and reading
# MNIST; the first compiled call's tracing; after the last batch, scoring the 10,000 test digits.
START_SECONDS = 8.0
FIRST_CALL_SECONDS = 3.0
FINISH_SECONDS = 3.0
VALIDATION_DIGITS_PER_SECOND = 6000.0
MEASURED_RUNS = Path(__file__).parent / "assets" / "measured_runs.json"
# How far below the least that runs with the same settings reached a test accuracy must fall to be
# "far below" (the run did not learn as such runs do); with changed settings, the recipe's runs are
# only a reference, so only a much larger gap says something went wrong.
FAR_BELOW_SAME_SETTINGS = 0.01
FAR_BELOW_CHANGED_SETTINGS = 0.05
# The recipe fields that decide a run's accuracy and pace (the validation split only holds digits out).
SAME_RECIPE_FIELDS = ("epochs", "batch_size", "learning_rate", "schedule", "optimizer", "augmentation")


@dataclass(frozen=True)
class PastRun:
    """One finished training run on this machine: its settings, its score and where its seconds went."""

    architecture: str
    recipe: dict  # Recipe.to_dict()
    training_digits: int  # the chosen subset (60,000: all)
    fitted_digits: int  # per epoch, after the hold-out
    epochs: int  # completed
    seconds: float  # the fit's wall time
    test_accuracy: float | None
    source: str  # where it comes from, in words
    created_at: str = ""
    setup_seconds: float | None = None
    first_call_seconds: float | None = None
    validation_seconds: float | None = None
    validation_digits: int | None = None
    finish_seconds: float | None = None

    @classmethod
    def from_dict(cls, values: dict) -> PastRun:
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})

    @property
    def steady_digits_per_second(self) -> float:
        """The fitting pace with the first call's compiling and the validations left out."""
        fitting = self.seconds - (self.first_call_seconds or 0.0) - (self.validation_seconds or 0.0)
        return self.fitted_digits * self.epochs / max(fitting, 1e-3)


def past_runs(cards: Iterable[ModelCard]) -> list[PastRun]:
    """The training runs behind `cards` (fine-tunes, stopped runs and cards without timings left out)."""
    runs = []
    for card in cards:
        training = card.training
        if (
            card.parent
            or training.extra.get("started_from")  # trained on from another model: not the recipe's result
            or training.stopped
            or not training.seconds
            or not training.train_examples
            or not training.epochs_completed
            or "batch_size" not in training.recipe
        ):
            continue
        runs.append(
            PastRun(
                architecture=card.architecture or "",
                recipe=training.recipe,
                training_digits=training.limit or TRAINING_DIGITS,
                fitted_digits=training.train_examples,
                epochs=training.epochs_completed,
                seconds=training.seconds,
                test_accuracy=card.test_accuracy,
                source=f"the run that trained {card.name or '?'}",
                created_at=str(card.created_at or ""),
                setup_seconds=training.setup_seconds,
                first_call_seconds=training.first_call_seconds,
                validation_seconds=training.validation_seconds,
                validation_digits=training.validation_digits,
                finish_seconds=training.finish_seconds,
            )
        )
    return runs


@cache
def measured_runs() -> tuple[PastRun, ...]:
    """The runs measured here for the Train page's recipes (bench/measure_recipes.py)."""
    if not MEASURED_RUNS.exists():
        return ()
    return tuple(PastRun.from_dict(values) for values in json.loads(MEASURED_RUNS.read_text())["runs"])


def augmentation_kind(recipe: dict) -> str:
    """'none', 'geometric' or 'real': what the random layers cost per digit differs by kind."""
    augmentation = recipe.get("augmentation") or {}
    if augmentation.get("real_inputs"):
        return "real"
    if any(augmentation.get(name) for name in ("rotation_degrees", "shift", "zoom", "thickness")):
        return "geometric"
    return "none"


@dataclass(frozen=True)
class Pace:
    """How fast runs of an architecture went here, and their fixed costs."""

    digits_per_second: float  # steady fitting pace
    batch_size: int
    augmentation: str  # augmentation_kind of the run it comes from
    measured_by: str  # which run it comes from, in words
    setup_seconds: float = START_SECONDS
    first_call_seconds: float = FIRST_CALL_SECONDS
    validation_digits_per_second: float = VALIDATION_DIGITS_PER_SECOND
    finish_seconds: float = FINISH_SECONDS


@dataclass(frozen=True)
class Estimate:
    seconds: float
    pace: Pace
    same_setup: bool  # the pace was measured with the same batch size and augmentation


def pace_for(runs: Sequence[PastRun], architecture: str, recipe: dict) -> Pace | None:
    """The pace of the past run most like `recipe` (same batch size and augmentation first, then the
    newest) among runs of `architecture`; its fixed costs from the newest run that recorded them.
    None when this machine has finished no run of the architecture."""
    mine = [run for run in runs if run.architecture == architecture]
    if not mine:
        return None
    kind = augmentation_kind(recipe)

    def likeness(run: PastRun) -> tuple:
        same_batch = int(run.recipe.get("batch_size", 0)) == int(recipe["batch_size"])
        return (same_batch + (augmentation_kind(run.recipe) == kind), run.setup_seconds is not None, run.created_at)

    best = max(mine, key=likeness)
    timed = sorted((run for run in mine if run.setup_seconds is not None), key=lambda run: run.created_at)
    costs = timed[-1] if timed else None
    validation_rate = VALIDATION_DIGITS_PER_SECOND
    if costs is not None and costs.validation_seconds and costs.validation_digits:
        validation_rate = costs.validation_digits / costs.validation_seconds
    return Pace(
        digits_per_second=best.steady_digits_per_second,
        batch_size=int(best.recipe["batch_size"]),
        augmentation=augmentation_kind(best.recipe),
        measured_by=best.source,
        setup_seconds=START_SECONDS if costs is None else costs.setup_seconds or START_SECONDS,
        first_call_seconds=FIRST_CALL_SECONDS if costs is None else costs.first_call_seconds or FIRST_CALL_SECONDS,
        validation_digits_per_second=validation_rate,
        finish_seconds=FINISH_SECONDS if costs is None else costs.finish_seconds or FINISH_SECONDS,
    )


def estimate(pace: Pace, plan: RunPlan, recipe: dict) -> Estimate:
    """Seconds from the click to the saved model for the run `plan` lays out."""
    seconds = (
        pace.setup_seconds
        + pace.first_call_seconds
        + plan.epochs * plan.fitted / pace.digits_per_second
        + plan.validation_digits / pace.validation_digits_per_second
        + pace.finish_seconds
    )
    same = pace.batch_size == int(recipe["batch_size"]) and pace.augmentation == augmentation_kind(recipe)
    return Estimate(seconds, pace, same)


def remaining_seconds(
    progress: float, seconds_training: float, *, since_progress: float = 0.0, planned_left: float | None = None
) -> float | None:
    """Seconds left for a running job `progress` (0..1) of the way through its batches, at its own
    pace over the `seconds_training` it took from `since_progress` to here (the first call's compiling
    left out). Over the first tenth of the run the pace is blended with `planned_left` (the estimate
    before the click, less the time gone): a few steps say little. None when neither is known yet."""
    observed = progress - since_progress
    own = seconds_training * (1 - progress) / observed + FINISH_SECONDS if observed >= 0.02 else None
    if planned_left is None:
        return own
    planned = max(FINISH_SECONDS, planned_left)
    if own is None:
        return planned
    weight = min(1.0, observed / 0.1)
    return weight * own + (1 - weight) * planned


def duration_text(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1 h 10 min'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


@dataclass(frozen=True)
class Expectation:
    """The test accuracy to expect, as the range past runs reached, and where it comes from."""

    low: float
    high: float
    source: str  # in words
    same_settings: bool  # False: the range is the recipe's, and the visitor changed its settings

    @property
    def floor(self) -> float:
        """Below this a run did not learn as runs like it do: its model is saved with a warning."""
        return self.low - (FAR_BELOW_SAME_SETTINGS if self.same_settings else FAR_BELOW_CHANGED_SETTINGS)

    @property
    def text(self) -> str:
        """'99.2 %' or '98.0–98.3 %' (one decimal, as the range is no finer)."""
        low, high = f"{100 * self.low:.1f}", f"{100 * self.high:.1f}"
        return f"{low} %" if low == high else f"{low}–{high} %"


def _same(recipe: dict, other: dict) -> bool:
    return all(_setting(recipe, field) == _setting(other, field) for field in SAME_RECIPE_FIELDS)


# Augmentation fields added later are absent from older cards and measured runs, which were trained
# with each field's default (no flat-topped sixes, say): a missing field reads as its default.
AUGMENTATION_DEFAULTS = dataclasses.asdict(Augmentation())


def _setting(recipe: dict, field: str):
    value = recipe.get(field)
    return {**AUGMENTATION_DEFAULTS, **(value or {})} if field == "augmentation" else value


def _scored(runs: Sequence[PastRun], architecture: str) -> list[PastRun]:
    return [run for run in runs if run.architecture == architecture and run.test_accuracy is not None]


def _digits(count: int) -> str:
    return f"{count:,} digits"


def expected_accuracy(
    runs: Sequence[PastRun], preset, which: str, recipe: dict, training_digits: int
) -> Expectation | None:
    """The test accuracy to expect for `recipe` (a dict) on `training_digits`: the range of past runs
    with the same settings and subset; else, when the settings are the recipe `which` sized for the
    subset, the range interpolated (in log digits) between runs of that recipe on the nearest smaller
    and larger subsets; else (changed settings) the recipe's own expectation, said to be only a
    reference. None when no run says anything (no promise is better than a wrong one)."""
    scored = _scored(runs, preset.name)
    same = [run for run in scored if _same(run.recipe, recipe) and run.training_digits == training_digits]
    if same:
        accuracies = [float(run.test_accuracy or 0.0) for run in same]
        newest = max(same, key=lambda run: run.created_at)
        count = f"{len(same)} runs" if len(same) > 1 else "1 run"
        return Expectation(
            min(accuracies),
            max(accuracies),
            f"{count} with these settings on {_digits(training_digits)} here, e.g. {newest.source}",
            True,
        )
    named = preset.recipes[which]
    sized = named.watched().sized_for(training_digits).to_dict()
    if not _same(sized, recipe):
        reference = expected_accuracy(runs, preset, which, sized, training_digits)
        if reference is None:
            return None
        return Expectation(
            reference.low,
            reference.high,
            f"what the recipe's own settings reach ({reference.source}); you changed them, so yours may score otherwise",
            False,
        )
    by_size: dict[int, list[float]] = {}
    for run in scored:
        if _same(run.recipe, named.watched().sized_for(run.training_digits).to_dict()):
            by_size.setdefault(run.training_digits, []).append(float(run.test_accuracy or 0.0))
    smaller = [size for size in by_size if size < training_digits]
    larger = [size for size in by_size if size > training_digits]
    if not smaller or not larger:
        return None  # no extrapolation: a subset outside the measured ones may score anything
    below, above = max(smaller), min(larger)
    share = (math.log(training_digits) - math.log(below)) / (math.log(above) - math.log(below))
    low = min(by_size[below]) + share * (min(by_size[above]) - min(by_size[below]))
    high = max(by_size[below]) + share * (max(by_size[above]) - max(by_size[below]))
    return Expectation(
        low,
        high,
        f"between the runs of this recipe on {_digits(below)} and on {_digits(above)} here",
        True,
    )
