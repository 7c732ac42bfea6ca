"""How a preset is trained and described: recipes, augmentation settings, measurements and the preset
record. No Keras here, so the CLI's --help, its samples commands and the pages' widgets need none;
the networks themselves are built in architectures.py."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from digitcore.limits import MAX_EPOCHS

if TYPE_CHECKING:
    import keras

SCHEDULES = ("constant", "exponential", "one_cycle")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adadelta")
# The Train page holds out at least this share of the chosen digits, so every preset draws a
# validation curve beside its training curve (the CLI keeps each recipe's own split).
WATCHED_VALIDATION_SPLIT = 0.05
# A flag on a 1 at least this long (a fraction of the one's height) and at most this steep (degrees
# below the horizontal); flatter and longer is a 7's bar, so the recipe sets only the other ends.
FLAG_SHORTEST, FLAG_STEEPEST = 0.22, 60.0


@dataclass(frozen=True)
class Augmentation:
    """Random changes applied to training digits only (never saved with the model)."""

    rotation_degrees: float = 0.0
    shift: float = 0.0  # fraction of the image size
    zoom: float = 0.0  # fraction, symmetric
    thickness: float = 0.0  # probability of thickening or thinning the strokes by one pixel
    barred_sevens: float = 0.0  # fraction of the training sevens given a bar across the stem
    # Share of the digits given each of augment_real's changes (elastic wobble, slant and width, stroke
    # weight, broken strokes, blur, paper grain): what real people's digits look like after preprocessing.
    real_inputs: float = 0.0
    flagged_ones: float = 0.0  # fraction of the training ones given the flag many people draw on a 1
    # The flags' geometry: lengths from FLAG_SHORTEST to this fraction of the one's height, angles
    # from this many degrees below the horizontal to FLAG_STEEPEST (the defaults are the first
    # geometry the default model was trained with; cards without these fields were trained with it).
    flag_longest: float = 0.38
    flag_flattest: float = 35.0
    # Shares of the sixes given a flat top and of the threes whose ends curl back into open loops
    # (augment_shapes): shapes people write that MNIST's writers rarely did.
    flat_top_sixes: float = 0.0
    looped_threes: float = 0.0

    @property
    def enabled(self) -> bool:
        """Whether any in-graph random layer is needed (barred sevens and flagged ones are drawn
        on the digits before fitting)."""
        return any((self.rotation_degrees, self.shift, self.zoom, self.thickness, self.real_inputs))


@dataclass(frozen=True)
class Recipe:
    """How a preset is trained. Every field can be overridden from the CLI or the app."""

    epochs: int
    batch_size: int
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"  # one of SCHEDULES
    decay: float = 0.95  # per-epoch factor for the "exponential" schedule
    warmup_fraction: float = 0.25  # share of all steps the "one_cycle" schedule spends warming up
    validation_split: float = 0.1
    augmentation: Augmentation = field(default_factory=Augmentation)
    # Set on a recipe defined by how many digits it shows the network (the fast recipe: one pass
    # over 60,000) rather than by epochs: on a subset, sized_for() raises the epochs so the network
    # still sees about this many digits (one epoch of 6,000 digits is 24 steps, too few to learn).
    tuned_for_digits: int | None = None

    def with_overrides(self, **overrides) -> Recipe:
        """A copy with the given fields replaced; None values are ignored."""
        overrides = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"Unknown recipe fields: {', '.join(sorted(unknown))}.")
        recipe = dataclasses.replace(self, **overrides)
        recipe.validate()
        return recipe

    def validate(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"Epochs must be at least 1, not {self.epochs}.")
        if self.batch_size < 1:
            raise ValueError(f"The batch size must be at least 1, not {self.batch_size}.")
        if self.learning_rate <= 0:
            raise ValueError(f"The learning rate must be positive, not {self.learning_rate}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule '{self.schedule}'; choose one of {', '.join(SCHEDULES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer '{self.optimizer}'.")
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"The validation split must be in [0, 1), not {self.validation_split}.")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"The warm-up fraction must be in [0, 1), not {self.warmup_fraction}.")
        if self.epochs > MAX_EPOCHS:
            raise ValueError(f"Epochs must be at most {MAX_EPOCHS}, not {self.epochs}.")
        limits = {
            "rotation_degrees": 180.0,
            "shift": 1.0,
            "zoom": 1.0,
            "thickness": 1.0,
            "barred_sevens": 1.0,
            "real_inputs": 1.0,
            "flagged_ones": 1.0,
            "flat_top_sixes": 1.0,
            "looped_threes": 1.0,
        }
        augmentation = self.augmentation
        if not FLAG_SHORTEST <= augmentation.flag_longest <= 0.7:
            raise ValueError(
                f"The longest flag on a 1 must be between {FLAG_SHORTEST:g} and 0.7 of its height, "
                f"not {augmentation.flag_longest}."
            )
        if not 15.0 <= augmentation.flag_flattest <= FLAG_STEEPEST:
            raise ValueError(
                f"The flattest flag on a 1 must be between 15 and {FLAG_STEEPEST:g} degrees below the "
                f"horizontal, not {augmentation.flag_flattest}."
            )
        for name, highest in limits.items():
            value = getattr(self.augmentation, name)
            if not 0.0 <= value <= highest:
                raise ValueError(
                    f"Augmentation {name.replace('_', ' ')} must be between 0 and {highest:g}, not {value}."
                )

    def fitted_digits(self, training_digits: int) -> int:
        """How many of `training_digits` chosen digits are fitted (the rest are held out)."""
        return training_digits - round(training_digits * self.validation_split)

    def sized_for(self, training_digits: int) -> Recipe:
        """This recipe for `training_digits` chosen digits: a recipe tuned for a number of digits
        seen gets as many more epochs as the subset is smaller (at most MAX_EPOCHS), and no recipe's
        batch is larger than the digits fitted (a batch of 256 on 190 digits would run as 190).
        Other epochs are kept: they are what the visitor or the publication chose."""
        batch_size = max(1, min(self.batch_size, self.fitted_digits(training_digits)))
        if self.tuned_for_digits is None or training_digits >= self.tuned_for_digits:
            return dataclasses.replace(self, batch_size=batch_size)
        epochs = round(self.epochs * self.tuned_for_digits / max(1, training_digits))
        return dataclasses.replace(self, epochs=min(MAX_EPOCHS, max(self.epochs, epochs)), batch_size=batch_size)

    def watched(self) -> Recipe:
        """A copy holding out at least WATCHED_VALIDATION_SPLIT of the digits for validation."""
        return dataclasses.replace(self, validation_split=max(self.validation_split, WATCHED_VALIDATION_SPLIT))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Recipe:
        values = dict(values)
        values.pop("batchnorm_momentum", None)  # cards written before BatchNorm was re-estimated
        values["augmentation"] = Augmentation(**values.get("augmentation", {}))
        return cls(**values)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    build: Callable[[], keras.Model]  # imports Keras when called, not before
    recipe: Recipe
    published_accuracy: float | None  # test accuracy the source reported, 0..1
    published_params: int | None
    notes: str | None  # where it comes from and what had to be guessed (a builder's docstring)
    fast_recipe: Recipe | None = None  # a short recipe for quick results, where the preset has one
    # Further named recipes between fast and default (e.g. "fast995"), quickest first.
    more_recipes: dict[str, Recipe] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The notes as prose: paragraphs of single lines (docstring indents would read as code)."""
        paragraphs = inspect.cleandoc(self.notes or "").split("\n\n")
        return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)

    @property
    def recipes(self) -> dict[str, Recipe]:
        """The preset's recipes by name, the quickest first."""
        return {**({"fast": self.fast_recipe} if self.fast_recipe else {}), **self.more_recipes, "default": self.recipe}

    def recipe_named(self, which: str = "default") -> Recipe:
        try:
            return self.recipes[which]
        except KeyError:
            raise ValueError(
                f"The preset {self.name} has no '{which}' recipe; it has {', '.join(self.recipes)}."
            ) from None
