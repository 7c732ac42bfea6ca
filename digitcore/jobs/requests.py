"""What a visitor or a user asks for: one request type per job kind, validated once against limits.py.

The job manager, the CLI and the pages build these; `validated()` is the one place a request's values
are checked. A free name is only a proposal: registry.save(overwrite=False) is what refuses,
atomically, a name another save took in between.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitcore import ensemble, limits, registry

if TYPE_CHECKING:
    from digitcore.recipes import Recipe


def _refuse_taken(name: str, directory: Path) -> None:
    """An early, friendly refusal; the save's exclusive create is what guarantees it."""
    if (directory / f"{name}.keras").exists():
        raise ValueError(f"A model named '{name}' already exists. Choose another name.")


@dataclass(frozen=True)
class TrainRequest:
    """Train `preset` with `recipe` (None: the preset's, sized for the digits) on `limit` digits."""

    preset: str
    name: str
    recipe: Recipe | None = None
    limit: int | None = None  # None: all limits.TRAINING_DIGITS
    seed: int = 0

    def validated(self, models_directory: Path | None = None) -> TrainRequest:
        """This request with the preset's canonical name and a concrete recipe, or ValueError with a
        sentence: an unknown preset, a bad recipe, subset size or name, or (with `models_directory`)
        a name already taken there."""
        from digitcore.architectures import get_preset

        chosen = get_preset(self.preset)
        recipe = self.recipe or chosen.recipe.sized_for(self.limit or limits.TRAINING_DIGITS)
        recipe.validate()
        registry.check_name(self.name)
        limits.check_training_digits(self.limit)
        if models_directory is not None:
            _refuse_taken(self.name, models_directory)
        return dataclasses.replace(self, preset=chosen.name, recipe=recipe)


@dataclass(frozen=True)
class FinetuneRequest:
    """Fine-tune the saved model `parent` on the visitor's digits (uint8 (n, 28, 28), labels (n,))."""

    parent: str | None  # a name in the models folder, a path to a .keras file, or None: the default model
    x_samples: Any
    y_samples: Any
    name: str | None  # None: the first free <parent>_mine name
    epochs: int = limits.FINETUNE_DEFAULT_EPOCHS
    user_examples: int = 3000
    learning_rate: float = 3e-4
    seed: int = 0

    def validated(self, models_directory: Path) -> FinetuneRequest:
        """This request with the parent as a resolved path and a name, or ValueError with a sentence: no
        digits, epochs outside the limits, no such parent (registry.ModelFileError), a bad or taken name.
        The digits and epochs are checked first: they need no models folder."""
        if len(self.x_samples) == 0 or len(self.x_samples) != len(self.y_samples):
            raise ValueError("Fine-tuning needs at least one of your own labelled digits.")
        limits.check_finetune_epochs(self.epochs)
        parent_path = registry.resolve(self.parent, models_directory)
        if not parent_path.exists():
            raise ValueError(f"There is no model '{parent_path.stem}' to fine-tune.")
        members = ensemble.members_of(registry.read_card(parent_path))
        if members:  # its members would be trained as one model and the card would lose them
            raise ValueError(
                f"{parent_path.stem} is an ensemble of {', '.join(members)}: fine-tune one of them instead."
            )
        name = self.name if self.name is not None else registry.finetuned_name(parent_path.stem, models_directory)
        registry.check_name(name)
        _refuse_taken(name, models_directory)
        return dataclasses.replace(
            self, parent=str(parent_path), name=name, epochs=int(self.epochs), user_examples=int(self.user_examples)
        )
