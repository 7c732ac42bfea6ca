"""Model cards (models/<name>.json): the one typed reader and writer of their JSON, every format version.

Format 1 is every card written before the format had a number; format 2 adds `card_format` and
writes the same keys otherwise (a fine-tuned card also writes the training-only keys, as null).
Keys this version does not know are kept in `extra` and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitcore.events import EpochEnd, FinetuneScores
from digitcore.records import KeyedRecord, known_fields

CARD_FORMAT = 2


class InvalidCard(ValueError):
    """A card file that is not JSON, not an object, or holds a field of the wrong type. str() says which."""


@dataclass(frozen=True)
class TrainingRecord(KeyedRecord):
    """How the model was trained (a fine-tuned card fills only a few of these)."""

    architecture: str | None = None
    seed: int | None = None
    recipe: dict = field(default_factory=dict)  # architectures.Recipe.to_dict() (Recipe.from_dict reads it)
    train_examples: int | None = None
    validation_examples: int | None = None
    tensorflow_threads: int | None = None
    machine: str | None = None
    limit: int | None = None  # the training subset, None for all 60,000 digits
    epochs_completed: int | None = None
    best_epoch: int | None = None  # by validation accuracy; None without a validation split
    kept_epoch: int | None = None  # whose weights were saved
    stopped: bool = False
    seconds: float | None = None
    batchnorm: str | None = None
    command: str | None = None
    # Where the seconds went (estimates.py reads them to tell the pace of fitting from fixed costs):
    setup_seconds: float | None = None  # from the click to the first batch (process, TensorFlow, data)
    first_call_seconds: float | None = None  # the first compiled call, tracing included
    validation_seconds: float | None = None  # re-estimating BatchNorm and scoring held-out digits
    validation_points: int | None = None
    validation_digits: int | None = None  # calibration and held-out digits those points read
    finish_seconds: float | None = None  # scoring the test digits after the last batch
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self._field_names()}
        return {**values, **self.extra}

    @classmethod
    def from_dict(cls, values: Mapping) -> TrainingRecord:
        known, extra = known_fields(cls, values)
        known.pop("extra", None)
        return cls(**known, extra=extra)


# Keys a training card does not have; written only when set, so those cards keep their old keys.
_FINETUNE_ONLY = ("parent", "parent_sha256", "finetune", "before", "after")


@dataclass(frozen=True)
class ModelCard(KeyedRecord):
    """What is known about one saved model. `registry.save` fills the file facts (name, file,
    sha256, file_bytes, parameters, created_at, versions); training fills the rest."""

    name: str = ""
    file: str = ""
    sha256: str | None = None  # of the .keras file; a load refuses a file that does not match
    file_bytes: int | None = None
    parameters: int | None = None
    architecture: str | None = None  # the preset's name
    title: str | None = None
    default: bool = False  # the model used when none is named (exactly one card says true)
    training: TrainingRecord = field(default_factory=TrainingRecord)
    history: list[EpochEnd] = field(default_factory=list)  # the finished epochs
    data_checksums: dict = field(default_factory=dict)
    test_accuracy: float | None = None  # on the 10,000 MNIST test digits
    test_examples: int | None = None
    per_class_accuracy: list[float] = field(default_factory=list)
    published_accuracy: float | None = None
    published_params: int | None = None
    warning: str | None = None  # a sentence when the test accuracy is far below the curves
    parent: str | None = None  # fine-tuned cards: the model it started from
    parent_sha256: str | None = None
    finetune: dict | None = None  # fine-tuned cards: the fine-tuning settings
    before: FinetuneScores | None = None
    after: FinetuneScores | None = None
    created_at: str | None = None
    versions: dict = field(default_factory=dict)  # library versions that trained it
    card_format: int = CARD_FORMAT
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        values: dict[str, Any] = {}
        for name in self._field_names():
            value = getattr(self, name)
            if value is None and name in _FINETUNE_ONLY:
                continue
            if name == "history":
                value = [event.to_dict() for event in value]
            elif isinstance(value, (TrainingRecord, FinetuneScores)):
                value = value.to_dict()
            values[name] = value
        return {**values, **self.extra}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, values: Mapping) -> ModelCard:
        """A card from JSON of any format; raises InvalidCard for a field of the wrong type."""
        if not isinstance(values, Mapping):
            raise InvalidCard("it is not a JSON object")
        known, extra = known_fields(cls, values)
        known.pop("extra", None)
        known.setdefault("card_format", 1)  # cards written before the format had a number
        try:
            for name in ("test_accuracy", "published_accuracy"):
                if known.get(name) is not None:
                    known[name] = float(known[name])
            for name in ("file_bytes", "parameters", "test_examples", "published_params", "card_format"):
                if known.get(name) is not None:
                    known[name] = int(known[name])
            known["default"] = bool(known.get("default", False))
            known["training"] = TrainingRecord.from_dict(known.get("training") or {})
            known["history"] = [EpochEnd.from_dict(event) for event in known.get("history") or []]
            for name in ("before", "after"):
                if known.get(name) is not None:
                    known[name] = FinetuneScores.from_dict(known[name])
            for name in ("data_checksums", "versions"):
                known[name] = dict(known.get(name) or {})
            known["per_class_accuracy"] = [float(value) for value in known.get("per_class_accuracy") or []]
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise InvalidCard(f"a field has the wrong type ({type(error).__name__}: {error})") from None
        return cls(**known, extra=extra)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        try:
            values = json.loads(text)
        except ValueError as error:
            raise InvalidCard(f"it is not valid JSON ({error})") from None
        return cls.from_dict(values)

    def replace(self, **changes: Any) -> ModelCard:
        return dataclasses.replace(self, **changes)


def card_path(model_path: Path) -> Path:
    """The card beside a .keras file."""
    return model_path.with_suffix(".json")


def read(model_path: Path) -> ModelCard | None:
    """The card beside a .keras file, None when there is none. Raises InvalidCard or OSError."""
    path = card_path(model_path)
    if not path.is_file():
        return None
    return ModelCard.from_json(path.read_text())
