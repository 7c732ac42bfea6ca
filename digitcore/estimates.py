"""How long a training run will take here, from the pace of runs this machine already finished.

Pure functions over model cards (no Keras), so the Train page can say before the click how long a
recipe takes, and the job can refine it while it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from digitcore.cards import ModelCard

# Measured on this 2-core machine (the default Train click, DigitNet fast on 60,000 digits): from
# the click to the first batch a job spends about this long starting a process, importing
# TensorFlow and reading MNIST; after its last batch, scoring the 10,000 test digits and saving.
START_SECONDS = 8.0
FINISH_SECONDS = 3.0


@dataclass(frozen=True)
class Pace:
    """Training digits per second one finished run of an architecture reached on this machine."""

    digits_per_second: float
    batch_size: int
    augmented: bool
    measured_by: str  # which run it comes from, in words


@dataclass(frozen=True)
class Estimate:
    seconds: float
    pace: Pace
    same_setup: bool  # the pace was measured with the same batch size and augmentation


def pace_for(cards: Iterable[ModelCard], preset, which: str, *, batch_size: int, augmented: bool) -> Pace | None:
    """The pace to estimate a run of `preset`'s recipe `which` with: a finished run here of the same
    batch size and augmentation, else the pace recorded with the recipe, else the closest run here.

    A run of another shape says little (the default model's 40 augmented epochs at batch 128 go at a
    third of the fast recipe's pace), so it only serves when nothing better is known."""
    cards = list(cards)
    closest = pace_from_cards(cards, preset.name, batch_size=batch_size, augmented=augmented)
    if closest is not None and closest.batch_size == batch_size and closest.augmented == augmented:
        return closest
    return recorded_pace(preset, which) or closest


def pace_from_cards(cards: Iterable[ModelCard], architecture: str, *, batch_size: int, augmented: bool) -> Pace | None:
    """The pace of the run most like this one (same batch size and augmentation first, then the
    newest) among finished training runs of `architecture`; None when this machine has none."""
    candidates = []
    for card in cards:
        training = card.training
        recipe = training.recipe
        seconds, examples = training.seconds or 0, training.train_examples or 0
        epochs = training.epochs_completed or 0
        if (
            card.architecture != architecture
            or card.parent
            or training.stopped
            or seconds <= 0
            or not examples
            or not epochs
            or "batch_size" not in recipe
        ):
            continue
        was_augmented = any(
            (recipe.get("augmentation") or {}).get(field)
            for field in ("rotation_degrees", "shift", "zoom", "thickness")
        )
        pace = Pace(
            examples * epochs / seconds,
            int(recipe["batch_size"]),
            was_augmented,
            f"the run that trained {card.name or '?'}",
        )
        likeness = (pace.batch_size == batch_size) + (was_augmented == augmented)
        candidates.append((likeness, str(card.created_at or ""), pace))
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: candidate[:2])[2]


def estimate(
    pace: Pace, *, epochs: int, training_digits: int, validation_split: float, batch_size: int, augmented: bool
) -> Estimate:
    """Seconds from the click to the saved model for `epochs` over `training_digits` chosen digits."""
    fitted = round(training_digits * (1 - validation_split)) * epochs
    seconds = START_SECONDS + fitted / pace.digits_per_second + FINISH_SECONDS
    return Estimate(seconds, pace, pace.batch_size == batch_size and pace.augmented == augmented)


def remaining_seconds(progress: float, seconds_training: float) -> float | None:
    """Seconds left for a running job `progress` (0..1) of the way through its batches after
    `seconds_training` of fitting, at its own pace so far; None before 2 % (too early to tell)."""
    if progress < 0.02:
        return None
    return seconds_training * (1 - progress) / progress + FINISH_SECONDS


def duration_text(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1 h 10 min'."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def recorded_pace(preset, which: str) -> Pace | None:
    """The pace recorded with a preset's recipe (architectures.Measurement), when it has one."""
    measured = preset.fast_recipe_measured if which == "fast" else None
    if measured is None:
        return None
    recipe = preset.recipes[which]
    return Pace(measured.digits_per_second, recipe.batch_size, recipe.augmentation.enabled, f"`{measured.command}`")


@dataclass(frozen=True)
class Expectation:
    accuracy: float
    source: str  # where the number comes from, in words


SAME_RECIPE_FIELDS = ("epochs", "batch_size", "learning_rate", "schedule", "optimizer", "augmentation")


def expected_accuracy(
    cards: Iterable[ModelCard], preset, which: str, recipe, training_digits: int
) -> Expectation | None:
    """The test accuracy to expect: the newest model here trained with these settings; else what
    the recipe was measured at; else the preset's own card (its full recipe, said so)."""
    wanted = recipe.to_dict()
    scored = [
        card
        for card in cards
        if card.architecture == preset.name
        and not card.parent
        and card.test_accuracy is not None
        and not card.training.stopped
    ]  # (so "or 0.0" below never applies)
    same = [
        card
        for card in scored
        if all(card.training.recipe.get(field) == wanted[field] for field in SAME_RECIPE_FIELDS)
        and (card.training.limit or 60000) == training_digits
    ]
    if same:
        card = max(same, key=lambda card: str(card.created_at or ""))
        return Expectation(float(card.test_accuracy or 0.0), f"{card.name} was trained here with these settings")
    listed = preset.recipes[which].to_dict()
    unchanged = all(wanted[field] == listed[field] for field in SAME_RECIPE_FIELDS)
    if which == "fast" and preset.fast_recipe_measured and unchanged and training_digits >= 60000:
        return Expectation(
            preset.fast_recipe_measured.test_accuracy,
            f"measured on this machine: `{preset.fast_recipe_measured.command}`",
        )
    full = [
        card
        for card in scored
        if (card.training.limit or 60000) >= 60000 and card.training.recipe.get("epochs") == preset.recipe.epochs
    ]
    if full:
        card = max(full, key=lambda card: str(card.created_at or ""))
        return Expectation(
            float(card.test_accuracy or 0.0),
            f"the card of {card.name}, trained with the full recipe on "
            f"all 60,000 digits; your settings differ, so yours may score otherwise",
        )
    return None
