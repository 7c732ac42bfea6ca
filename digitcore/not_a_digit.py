"""Is the input one digit at all? A small guard network that flags letters, symbols, scribbles and
several digits, which any digit model would otherwise read as a digit with full confidence.

A classifier trained only on the ten digits must answer one of them for anything it is shown (an
"A" reads "4, 100 %"), so its own confidence cannot say "this is not a digit". The guard is a second,
tiny CNN (digitcore/assets/not_a_digit.keras, trained by scripts/train_not_a_digit.py) that sees the
same 28x28 model input and scores how likely it is NOT a digit. It was trained on MNIST training
digits (as they are and redrawn) and on generated non-digits (digitcore/non_digits.py), and its
threshold was set on held-out generated data so that at most 0.5 % of held-out digits are flagged.
It does not depend on the model the visitor picked, so every model gets the same verdict.

    verdict = not_a_digit.check(image28)   # (28, 28) float in [0, 1], white ink on black
    if verdict.not_a_digit: ...            # the digit is still given; the page says it is doubtful
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent / "assets"
GUARD_PATH = ASSETS / "not_a_digit.keras"  # outside models/: never offered in the model picker
CARD_PATH = ASSETS / "not_a_digit.json"  # threshold, recipe and held-out measurements

_lock = threading.Lock()
_loaded: dict = {}


# What a visitor is told when the guard doubts the input. It names no place on a page (it once said
# "its answer below" above the answer): where the answer stands is the page's layout, not this module's.
MESSAGE = (
    "This does not look like a single digit (a letter, a symbol, a scribble or several digits?). "
    "The model can only answer 0-9, so its answer is probably meaningless."
)


class GuardUnavailable(RuntimeError):
    """The guard network's file is missing or cannot be loaded."""


@dataclass(frozen=True)
class Verdict:
    """The guard's opinion of one input."""

    not_a_digit: bool  # score at or above the threshold
    score: float  # 0..1, how likely the input is not one digit
    threshold: float

    @property
    def message(self) -> str:
        """A sentence for the visitor (only meaningful when not_a_digit)."""
        return MESSAGE


def _guard():
    """(model, threshold), loaded once per process; thread-safe."""
    with _lock:
        if "model" not in _loaded:
            if not GUARD_PATH.is_file() or not CARD_PATH.is_file():
                raise GuardUnavailable(
                    "The not-a-digit guard is not installed: run `python scripts/train_not_a_digit.py` to train it."
                )
            import keras

            try:
                model = keras.models.load_model(GUARD_PATH, compile=False, safe_mode=True)
                threshold = float(json.loads(CARD_PATH.read_text())["threshold"])
            except Exception as error:  # any damage to our own shipped file: one typed error
                raise GuardUnavailable(f"The not-a-digit guard cannot be loaded ({type(error).__name__}).") from error
            _loaded["model"], _loaded["threshold"] = model, threshold
        return _loaded["model"], _loaded["threshold"]


def threshold() -> float:
    """The score at and above which an input is called not a digit."""
    return _guard()[1]


def scores(images: np.ndarray) -> np.ndarray:
    """How likely each preprocessed image is not a digit: (n,) float in [0, 1] for (n, 28, 28) inputs."""
    from digitcore import inference  # the compiled, batched model call (inference imports this module)

    model, _ = _guard()
    return inference.predict(model, images).reshape(-1).astype(np.float64)


def check(image: np.ndarray) -> Verdict:
    """The verdict for one preprocessed (28, 28) image, float in [0, 1], white ink on black."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"Expected one preprocessed 28x28 image, got shape {image.shape}.")
    return check_many(image[None])[0]


def check_many(images: np.ndarray) -> list[Verdict]:
    """Verdicts for (n, 28, 28) preprocessed images."""
    limit = threshold()
    return [Verdict(not_a_digit=bool(score >= limit), score=float(score), threshold=limit) for score in scores(images)]
