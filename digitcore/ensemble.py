"""Ensembles: saved models whose probabilities are averaged, saved as one model with its own card.

An ensemble is an ordinary Keras model (its members side by side, an Average layer on top), so
the model picker, Try it, Evaluate, the CLI and the saliency maps use it like any other model; its
card names the members it was built from and their own test accuracies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitcore import data, evaluation, registry
from digitcore.cards import ModelCard, TrainingRecord
from digitcore.records import KeyedRecord

ARCHITECTURE = "ensemble"  # what an ensemble's card says instead of a preset's name
MIN_MEMBERS, MAX_MEMBERS = 2, 5  # one member is no ensemble; each member adds its cost to every prediction


class EnsembleError(ValueError):
    """Members that cannot be averaged (too few, too many, repeated, or an ensemble among them)."""


@dataclass(frozen=True)
class EnsembleDone(KeyedRecord):
    """An ensemble was built, scored on the 10,000 test digits and saved."""

    name: str
    model: str  # the saved .keras file
    test_accuracy: float
    members: list[dict] = field(default_factory=list)  # name, sha256 and test accuracy of each member
    parameters: int | None = None
    event: str = field(default="done", init=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def combine(members: Sequence[tuple[str, Any]], name: str):
    """One Keras model averaging the probabilities of `members` ((name, model) pairs) for each digit."""
    import keras

    digits = keras.Input(shape=(28, 28, 1), name="digit")
    outputs = []
    for member_name, member in members:
        member.name = member_name  # names must be unique inside one model; two runs of one preset share theirs
        outputs.append(member(digits))
    averaged = keras.layers.Average(name="averaged_probabilities")(outputs)
    return keras.Model(digits, averaged, name=name)


def check_members(names: Sequence[str]) -> list[str]:
    names = [registry.check_name(name) for name in names]
    if len(set(names)) != len(names):
        raise EnsembleError(f"Each member can be named once; {', '.join(names)} repeats one.")
    if not MIN_MEMBERS <= len(names) <= MAX_MEMBERS:
        raise EnsembleError(f"An ensemble averages {MIN_MEMBERS} to {MAX_MEMBERS} models, not {len(names)}.")
    return names


def build_and_save(
    member_names: Sequence[str],
    name: str,
    *,
    directory: Path | None = None,
    title: str | None = None,
    command: str | None = None,
    overwrite: bool = False,
    mnist: data.Mnist | None = None,
) -> EnsembleDone:
    """Load the members from the models folder, average them, score the result on the test digits, save it."""
    names = check_members(member_names)
    members, facts = [], []
    for member_name in names:
        path = registry.resolve(member_name, directory)
        card = registry.read_card(path)
        if is_ensemble(card):
            raise EnsembleError(f"{member_name} is an ensemble itself; name its members instead.")
        members.append((member_name, registry.load(path)))
        facts.append(
            {
                "name": member_name,
                "sha256": card.sha256 if card else None,
                "test_accuracy": card.test_accuracy if card else None,
            }
        )
    model = combine(members, registry.check_name(name))
    mnist = mnist or data.load_mnist()
    scores = evaluation.summary(mnist.y_test, evaluation.predict_probabilities(model, mnist.x_test))
    card = ModelCard(
        architecture=ARCHITECTURE,
        title=title or f"Ensemble of {len(names)} models (averaged probabilities)",
        training=TrainingRecord(command=command, extra={"members": facts}),
        data_checksums=data.checksums(),
        test_accuracy=scores["accuracy"],
        test_examples=scores["n"],
        per_class_accuracy=scores["per_class_accuracy"],
    )
    path = registry.save(model, card, name, directory, overwrite=overwrite)
    return EnsembleDone(
        name=name,
        model=str(path),
        test_accuracy=scores["accuracy"],
        members=facts,
        parameters=int(model.count_params()),
    )


def is_ensemble(card: ModelCard | None) -> bool:
    return card is not None and card.architecture == ARCHITECTURE


def members_of(card: ModelCard | None) -> list[str]:
    """The member names an ensemble's card lists; [] for any other card."""
    if card is None or not is_ensemble(card):
        return []
    return [str(member.get("name")) for member in card.training.extra.get("members", [])]
