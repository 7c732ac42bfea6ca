"""What a training or fine-tuning run reports: typed progress events while it runs, and its outcome.

Pure data (no Keras): the job manager, the CLI and the pages read these without loading TensorFlow.
Each record's JSON form (`to_dict()`) carries an "event" key naming its kind, as the CLI's JSON lines
and the cards' history always have.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from digitcore.records import KeyedRecord, known_fields


def _number(value: Any, default: float = math.nan) -> float:
    return default if value is None else float(value)


@dataclass(frozen=True)
class TrainBegin(KeyedRecord):
    """Fitting starts: the first batch is about to run."""

    epochs: int
    steps_per_epoch: int
    event: str = field(default="train_begin", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BatchProgress(KeyedRecord):
    """Progress inside an epoch, sent at most every PROGRESS_INTERVAL_SECONDS."""

    epoch: int  # 1-based
    step: int  # 1-based, of `steps`
    steps: int
    loss: float = math.nan
    accuracy: float = math.nan
    event: str = field(default="batch", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> BatchProgress:
        return cls(
            epoch=int(values["epoch"]),
            step=int(values["step"]),
            steps=int(values["steps"]),
            loss=_number(values.get("loss")),
            accuracy=_number(values.get("accuracy")),
        )


@dataclass(frozen=True)
class EpochEnd(KeyedRecord):
    """One finished epoch: the point of a curve, and an entry of a card's history."""

    epoch: int  # 1-based
    epochs: int  # planned
    loss: float
    accuracy: float
    val_loss: float | None = None  # None when no digits were held out
    val_accuracy: float | None = None
    learning_rate: float = math.nan
    seconds: float = 0.0
    event: str = field(default="epoch", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> EpochEnd:
        """From JSON of any version (older ones carry a "stopped" flag; partial records may lack
        numbers, which read as 0 epochs and NaN)."""
        return cls(
            epoch=int(values.get("epoch", 0)),
            epochs=int(values.get("epochs", 0)),
            loss=_number(values.get("loss")),
            accuracy=_number(values.get("accuracy")),
            val_loss=None if values.get("val_loss") is None else float(values["val_loss"]),
            val_accuracy=None if values.get("val_accuracy") is None else float(values["val_accuracy"]),
            learning_rate=_number(values.get("learning_rate")),
            seconds=_number(values.get("seconds"), 0.0),
        )


@dataclass(frozen=True)
class CurvePoint(KeyedRecord):
    """A point of the live curves, sent about every 2 % of a run: how far the run is (in epochs, with
    fractions, and in digits fitted), the training loss and accuracy averaged over the steps since the
    previous point, and at the run's validation points the held-out digits' scores."""

    epochs_done: float  # e.g. 0.36 of the first epoch
    digits_seen: int
    loss: float
    accuracy: float
    val_loss: float | None = None  # None between validation points
    val_accuracy: float | None = None
    event: str = field(default="point", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> CurvePoint:
        return cls(
            epochs_done=float(values.get("epochs_done", 0.0)),
            digits_seen=int(values.get("digits_seen", 0)),
            loss=_number(values.get("loss")),
            accuracy=_number(values.get("accuracy")),
            val_loss=None if values.get("val_loss") is None else float(values["val_loss"]),
            val_accuracy=None if values.get("val_accuracy") is None else float(values["val_accuracy"]),
        )


@dataclass(frozen=True)
class EpochStopped(KeyedRecord):
    """A stop arrived during this epoch: it is partial, so it is not an epoch of the saved model."""

    epoch: int
    epochs: int
    event: str = field(default="stopped", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


TrainingEvent = TrainBegin | BatchProgress | CurvePoint | EpochEnd | EpochStopped
Listener = Callable[[TrainingEvent], None]


# --- outcomes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NothingSaved(KeyedRecord):
    """A run stopped before its first epoch ended: no model was saved."""

    name: str
    message: str = "Stopped before the first epoch finished; nothing was saved."
    saved: bool = False
    event: str = field(default="stopped", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainDone(KeyedRecord):
    """A training run saved its model (all its epochs, or the finished ones of a stopped run)."""

    name: str
    model: str  # the saved .keras file
    test_accuracy: float
    epochs_completed: int
    kept_epoch: int | None  # the epoch whose weights were saved
    stopped: bool
    seconds: float
    train_accuracy: float | None = None  # the kept epoch's; None in results of older servers
    validation_accuracy: float | None = None
    parameters: int | None = None
    warning: str | None = None  # a sentence when the test accuracy is far below the curves
    event: str = field(default="done", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> TrainDone:
        known, _ = known_fields(cls, values)
        known.pop("event", None)
        return cls(**known)


@dataclass(frozen=True)
class FinetuneScores(KeyedRecord):
    """Accuracy of one model on the MNIST test digits and on the visitor's own digits."""

    mnist_test_accuracy: float
    own_accuracy: float
    own_examples: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> FinetuneScores:
        return cls(float(values["mnist_test_accuracy"]), float(values["own_accuracy"]), int(values["own_examples"]))


@dataclass(frozen=True)
class FinetuneDone(KeyedRecord):
    """A fine-tuned model was saved: its scores before and after."""

    name: str
    model: str
    parent: str
    before: FinetuneScores
    after: FinetuneScores
    mnist_drop_points: float  # MNIST test accuracy lost, in points (negative: gained)
    within_bound: bool
    seconds: float
    event: str = field(default="done", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> FinetuneDone:
        known, _ = known_fields(cls, values)
        known.pop("event", None)
        known["before"] = FinetuneScores.from_dict(known["before"])
        known["after"] = FinetuneScores.from_dict(known["after"])
        return cls(**known)


TrainOutcome = TrainDone | NothingSaved
FinetuneOutcome = FinetuneDone | NothingSaved
Outcome = TrainDone | FinetuneDone | NothingSaved


def outcome_from_dict(values: Mapping, *, finetune: bool) -> Outcome:
    """An outcome from its JSON form (a job record); `finetune` tells the two "done" kinds apart."""
    if values.get("event") == "stopped" or not values.get("model"):
        return NothingSaved(
            name=str(values.get("name", "")), message=str(values.get("message") or NothingSaved.message)
        )
    return FinetuneDone.from_dict(values) if finetune else TrainDone.from_dict(values)
