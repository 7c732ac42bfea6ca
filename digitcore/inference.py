"""Fast predictions: a compiled model call cached per model, its confidence and top 3."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

UNSURE_THRESHOLD = 0.6  # below this top probability the answer is shown as a guess
BATCH_SIZE = 256  # large inputs go through in slices of this many images

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class Prediction:
    """The model's answer for one digit."""

    digit: int
    confidence: float  # probability of `digit`
    probabilities: list[float]  # ten, summing to 1
    unsure: bool  # confidence below UNSURE_THRESHOLD
    top3: list[tuple[int, float]]  # (digit, probability), most likely first


def _fast_call(model):
    """A tf.function with a fixed input signature for `model`, traced once and kept with the model."""
    with _lock:
        function = _compiled.get(model)
        if function is None:
            import tensorflow as tf

            # Holding only a weak reference keeps the cache from keeping the model alive.
            model_ref = weakref.ref(model)

            @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)], reduce_retracing=True)
            def function(images):
                return model_ref()(images, training=False)

            _compiled[model] = function
        return function


def _as_batch(images: np.ndarray) -> np.ndarray:
    """(28, 28) | (n, 28, 28) | (n, 28, 28, 1) -> float32 (n, 28, 28, 1)."""
    array = np.asarray(images, dtype=np.float32)
    if array.shape == (28, 28):
        array = array[None]
    if array.ndim == 3 and array.shape[1:] == (28, 28):
        array = array[..., None]
    if array.ndim != 4 or array.shape[1:] != (28, 28, 1):
        raise ValueError(f"Expected 28x28 images shaped (28, 28), (n, 28, 28) or (n, 28, 28, 1); got {array.shape}.")
    return array


def predict(model, images: np.ndarray) -> np.ndarray:
    """Probabilities (n, 10) for preprocessed images, through the compiled call (never model.predict)."""
    batch = _as_batch(images)
    function = _fast_call(model)
    if len(batch) == 0:
        return np.zeros((0, 10), dtype=np.float32)
    parts = [np.asarray(function(batch[start : start + BATCH_SIZE])) for start in range(0, len(batch), BATCH_SIZE)]
    return np.concatenate(parts).astype(np.float32)


def to_prediction(probabilities: np.ndarray) -> Prediction:
    """A Prediction from ten probabilities."""
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(10)
    order = np.argsort(-probabilities, kind="stable")
    digit = int(order[0])
    confidence = float(probabilities[digit])
    return Prediction(
        digit=digit,
        confidence=confidence,
        probabilities=[float(p) for p in probabilities],
        unsure=confidence < UNSURE_THRESHOLD,
        top3=[(int(d), float(probabilities[d])) for d in order[:3]],
    )


def classify(model, image: np.ndarray) -> Prediction:
    """The prediction for one preprocessed (28, 28) image."""
    return to_prediction(predict(model, image)[0])
