"""Looking inside a model: its layers, first-layer filters, feature maps and saliency maps."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from digitcore import inference

FEATURE_MAP_LAYERS = {
    "Conv2D": "convolution",
    "DepthwiseConv2D": "convolution",
    "SeparableConv2D": "convolution",
    "MaxPooling2D": "pooling",
    "AveragePooling2D": "pooling",
}
SALIENCY_METHODS = ("gradient", "occlusion")

_feature_models: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class FeatureMap:
    """What one layer makes of a digit."""

    layer: str  # the layer's name in the model
    kind: str  # "convolution" | "pooling"
    maps: np.ndarray  # float32 (height, width, channels)


def _as_image(image: np.ndarray) -> np.ndarray:
    """A (28, 28) or (28, 28, 1) float image in [0, 1] as float32 (28, 28)."""
    array = np.asarray(image, dtype=np.float32)
    if array.shape == (28, 28, 1):
        array = array[..., 0]
    if array.shape != (28, 28):
        raise ValueError(f"Expected one 28x28 digit, got an array of shape {array.shape}.")
    return array


def _shape_text(shape) -> str:
    """One digit's output, "26×26×32": the batch size is the same unknown for every layer, and a shape
    without spaces stays on one line in a phone's narrow table."""
    if isinstance(shape, list):
        return ", ".join(_shape_text(part) for part in shape)
    return "×".join(str(size) for size in shape if size is not None)


def layer_summary(model) -> list[dict]:
    """One row per layer: name, type, output shape (one digit's) and parameter count, in model order."""
    rows = []
    for layer in model.layers:
        try:
            shape = _shape_text(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ""
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": shape,
                "parameters": int(layer.count_params()),
            }
        )
    return rows


def first_layer_filters(model) -> np.ndarray:
    """The kernels of the first convolution as float32 (filters, height, width), one input channel.

    Raises ValueError for a model without convolutions (the dense baseline).
    """
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            kernel = np.asarray(layer.get_weights()[0], dtype=np.float32)  # (height, width, 1, filters)
            return np.transpose(kernel[:, :, 0, :], (2, 0, 1))
    raise ValueError(f"The model {model.name} has no convolution layer, so it has no filters to show.")


def _feature_model(model):
    """A model giving the output of every convolution and pooling layer, built once per model."""
    import keras

    with _lock:
        cached = _feature_models.get(model)
        if cached is None:
            chosen = [layer for layer in model.layers if type(layer).__name__ in FEATURE_MAP_LAYERS]
            outputs = [layer.output for layer in chosen]
            extractor = keras.Model(model.input, outputs) if outputs else None
            cached = (extractor, [(layer.name, FEATURE_MAP_LAYERS[type(layer).__name__]) for layer in chosen])
            _feature_models[model] = cached
        return cached


def feature_maps(model, image: np.ndarray) -> list[FeatureMap]:
    """The feature maps of every convolution and pooling layer for one (28, 28) digit, in order.

    An empty list for a model without such layers.
    """
    extractor, names = _feature_model(model)
    if extractor is None:
        return []
    batch = _as_image(image)[None, :, :, None]  # (1, 28, 28, 1)
    outputs = extractor(batch, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [
        FeatureMap(name, kind, np.asarray(output)[0].astype(np.float32)) for (name, kind), output in zip(names, outputs)
    ]


def _normalise(values: np.ndarray) -> np.ndarray:
    values = np.maximum(values, 0.0)
    top = float(values.max())
    return (values / top).astype(np.float32) if top > 0 else np.zeros_like(values, dtype=np.float32)


def gradient_saliency(model, image: np.ndarray, digit: int | None = None) -> np.ndarray:
    """|d log p(digit) / d pixel| for one digit, scaled to [0, 1], float32 (28, 28).

    `digit` None means the predicted digit. The log keeps the gradient alive when the model is
    very sure (the probability itself saturates near 1).
    """
    import tensorflow as tf

    pixels = tf.constant(_as_image(image)[None, :, :, None])  # (1, 28, 28, 1)
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        probabilities = model(pixels, training=False)  # (1, 10)
        chosen = int(tf.argmax(probabilities[0])) if digit is None else int(digit)
        score = tf.math.log(probabilities[0, chosen] + 1e-12)
    gradient = tape.gradient(score, pixels)
    return _normalise(np.abs(np.asarray(gradient)[0, :, :, 0]))


def occlusion_saliency(
    model, image: np.ndarray, digit: int | None = None, *, patch: int = 4, stride: int = 2
) -> np.ndarray:
    """How much hiding each patch lowers p(digit), averaged per pixel, scaled to [0, 1], (28, 28).

    The occluded copies go through the model in one batch (at most ((28 - patch) / stride + 1) squared).
    """
    if not 1 <= patch <= 28 or not 1 <= stride <= patch:
        raise ValueError(
            f"The patch must be 1 to 28 pixels and the stride 1 to the patch size, not patch={patch}, stride={stride}."
        )
    base = _as_image(image)
    reference = inference.predict(model, base)[0]
    chosen = int(np.argmax(reference)) if digit is None else int(digit)
    corners = [(row, col) for row in range(0, 28 - patch + 1, stride) for col in range(0, 28 - patch + 1, stride)]
    # Hiding a patch that is already black changes nothing, so its drop is exactly 0: only the patches
    # that hold ink go through the model (usually under half of them, which halves the cost).
    inked = [(row, col) for row, col in corners if base[row : row + patch, col : col + patch].any()]
    copies = np.repeat(base[None], max(1, len(inked)), axis=0)  # (patches with ink, 28, 28)
    for index, (row, col) in enumerate(inked):
        copies[index, row : row + patch, col : col + patch] = 0.0  # black is MNIST's background
    inked_drops = reference[chosen] - inference.predict(model, copies)[:, chosen]
    drop_at = dict(zip(inked, inked_drops))
    drops = [drop_at.get(corner, 0.0) for corner in corners]
    total = np.zeros((28, 28), dtype=np.float64)
    covered = np.zeros((28, 28), dtype=np.float64)
    for drop, (row, col) in zip(drops, corners):
        total[row : row + patch, col : col + patch] += drop
        covered[row : row + patch, col : col + patch] += 1
    return _normalise(np.divide(total, covered, out=np.zeros_like(total), where=covered > 0))


def saliency(model, image: np.ndarray, method: str = "gradient", digit: int | None = None) -> np.ndarray:
    """A (28, 28) map in [0, 1] of the pixels that matter most for `digit` (default: the prediction)."""
    if method == "gradient":
        return gradient_saliency(model, image, digit)
    if method == "occlusion":
        return occlusion_saliency(model, image, digit)
    raise ValueError(f"Unknown saliency method '{method}'; choose one of {', '.join(SALIENCY_METHODS)}.")
