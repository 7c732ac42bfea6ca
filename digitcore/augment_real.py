"""Training augmentations that make MNIST digits look like real inputs after preprocessing (issue 11).

A person's digit, after `preprocess.to_mnist`, differs from an MNIST digit in ways the usual
rotation/shift/zoom do not cover: the pen wobbles (elastic distortion), people slant and stretch
their digits, pens and brushes are thinner or thicker than MNIST's, photos are soft, strokes break
where the pen skipped or a ruling line was removed, and a little of the paper's texture survives the
threshold. Each layer below imitates one of these, on (batch, 28, 28, 1) float images in [0, 1],
only while training (they pass images through unchanged otherwise), each applied to a random share
of the digits (`probability`). They are Keras preprocessing layers, so they run inside the model's
training graph like training.augmentation_layers' others.

    layers = real_input_layers(0.5, seed=0)   # a keras.Sequential of all of them, each on half the digits

Keras (with its TensorFlow backend, as in training.py) is imported when a layer is built, never at
import of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitcore.augment_shapes import draw_on_share
from digitcore.recipes import FLAG_SHORTEST, FLAG_STEEPEST

SIDE = 28


@dataclass(frozen=True)
class RealInputAugmentation:
    """How strongly each change is applied (its largest size); each touches `probability` of the digits."""

    probability: float = 0.5
    elastic_pixels: float = 1.6  # largest displacement of the smooth random field, in pixels
    elastic_smoothness: float = 4.0  # its Gaussian sigma in pixels: larger is a smoother wobble
    slant: float = 0.3  # largest horizontal shear (x moves by slant * y): italic handwriting
    aspect: float = 0.2  # width scaled by 1 +- aspect about the centre: narrow and wide writers
    stroke_pixels: int = 1  # strokes grown or shrunk by up to this many pixels
    blur_sigma: float = 1.0  # largest Gaussian blur, in pixels: soft photos
    gaps: int = 2  # up to this many breaks in the strokes (a skipping pen, a removed ruling line)
    texture: float = 0.15  # largest brightness of leftover paper grain and a faint ruling line


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    line = np.exp(-0.5 * (offsets / sigma) ** 2)
    line /= line.sum()
    return np.outer(line, line).astype(np.float32)[:, :, None, None]  # (k, k, 1, 1)


def _layer_classes():
    """The layer classes, built on first use so that importing this module never loads Keras."""
    import keras
    from keras import ops

    class _RealInputLayer(keras.layers.Layer):
        """A random change applied to `probability` of the images, only while training."""

        def __init__(self, probability: float = 0.5, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.probability = float(probability)
            self.seed = int(seed)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=False):
            if not training or self.probability <= 0:
                return images
            changed = ops.clip(self.change(images), 0.0, 1.0)
            choice = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
            return ops.where(choice < self.probability, changed, images)

        def change(self, images):
            raise NotImplementedError

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "probability": self.probability, "seed": self.seed}

    def _warp(images, rows, cols):
        """Resample (b, 28, 28, 1) images at (b, 28, 28) source coordinates, bilinear, zero outside."""
        import tensorflow as tf  # a batched gather: map_coordinates needs a known batch size

        flat = tf.reshape(images, (-1, SIDE * SIDE))
        rows, cols = tf.reshape(rows, (-1, SIDE * SIDE)), tf.reshape(cols, (-1, SIDE * SIDE))
        top, left = tf.floor(rows), tf.floor(cols)
        result = tf.zeros_like(rows)
        for row, row_weight in ((top, 1.0 - (rows - top)), (top + 1.0, rows - top)):
            for col, col_weight in ((left, 1.0 - (cols - left)), (left + 1.0, cols - left)):
                inside = (row >= 0) & (row <= SIDE - 1) & (col >= 0) & (col <= SIDE - 1)
                index = tf.cast(
                    tf.clip_by_value(row, 0, SIDE - 1) * SIDE + tf.clip_by_value(col, 0, SIDE - 1), tf.int32
                )
                values = tf.gather(flat, index, batch_dims=1)
                result += tf.where(inside, values * row_weight * col_weight, 0.0)
        return tf.reshape(result, (-1, SIDE, SIDE, 1))

    def _grid(images):
        """Row and column coordinates, (b, 28, 28) each; by addition, so the batch size may be unknown."""
        rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
        zeros = ops.zeros_like(images[..., 0])
        return zeros + ops.convert_to_tensor(rows)[None], zeros + ops.convert_to_tensor(cols)[None]

    class RandomElastic(_RealInputLayer):
        """Elastic distortion (Simard et al. 2003): a smooth random displacement field, like a hand's wobble."""

        def __init__(self, pixels: float = 1.6, smoothness: float = 4.0, **kwargs):
            super().__init__(**kwargs)
            self.pixels, self.smoothness = float(pixels), float(smoothness)
            self.kernel = _gaussian_kernel(self.smoothness)

        def change(self, images):
            batch = ops.shape(images)[0]
            noise = keras.random.uniform((batch, SIDE, SIDE, 2), -1.0, 1.0, seed=self.seed_generator)
            kernel = ops.convert_to_tensor(self.kernel)
            fields = [ops.conv(noise[..., i : i + 1], kernel, padding="same")[..., 0] for i in range(2)]
            # scale each field so its largest displacement is `pixels`
            fields = [
                field / (ops.max(ops.abs(field), axis=(1, 2), keepdims=True) + 1e-6) * self.pixels for field in fields
            ]
            rows, cols = _grid(images)
            return _warp(images, rows + fields[0], cols + fields[1])

        def get_config(self):
            return {**super().get_config(), "pixels": self.pixels, "smoothness": self.smoothness}

    class RandomSlantAspect(_RealInputLayer):
        """Shear (slanted handwriting) and a change of width (narrow or wide digits) about the centre."""

        def __init__(self, slant: float = 0.3, aspect: float = 0.2, **kwargs):
            super().__init__(**kwargs)
            self.slant, self.aspect = float(slant), float(aspect)

        def change(self, images):
            batch = ops.shape(images)[0]
            shear = keras.random.uniform((batch, 1, 1), -self.slant, self.slant, seed=self.seed_generator)
            width = 1.0 + keras.random.uniform((batch, 1, 1), -self.aspect, self.aspect, seed=self.seed_generator)
            rows, cols = _grid(images)
            centre = (SIDE - 1) / 2.0
            # output x = centre + width * (x - centre) + shear * (y - centre): sample the inverse
            source_cols = centre + ((cols - centre) - shear * (rows - centre)) / width
            return _warp(images, rows, source_cols)

        def get_config(self):
            return {**super().get_config(), "slant": self.slant, "aspect": self.aspect}

    class RandomStrokeWeight(_RealInputLayer):
        """Strokes thickened (grey dilation) or thinned (grey erosion) by 1..`pixels` pixels."""

        def __init__(self, pixels: int = 1, **kwargs):
            super().__init__(**kwargs)
            self.pixels = int(pixels)

        def change(self, images):
            size = 1 + 2 * self.pixels if self.pixels > 1 else 2
            thick = ops.max_pool(images, pool_size=size, strides=1, padding="same")
            thin = -ops.max_pool(-images, pool_size=size, strides=1, padding="same")
            coin = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
            # thinning a thin digit can erase it: keep the original where nothing would be left
            thin = ops.where(ops.max(thin, axis=(1, 2, 3), keepdims=True) > 0.3, thin, images)
            return ops.where(coin < 0.5, thick, thin)

        def get_config(self):
            return {**super().get_config(), "pixels": self.pixels}

    class RandomBlur(_RealInputLayer):
        """A Gaussian blur of random width up to `sigma`, peak brought back to 1 as preprocess does."""

        def __init__(self, sigma: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self.sigma = float(sigma)
            self.kernels = [_gaussian_kernel(s) for s in np.linspace(0.5, max(0.5, self.sigma), 3)]

        def change(self, images):
            blurred = [ops.conv(images, ops.convert_to_tensor(kernel), padding="same") for kernel in self.kernels]
            pick = keras.random.randint((ops.shape(images)[0], 1, 1, 1), 0, len(blurred), seed=self.seed_generator)
            result = blurred[0]
            for index in range(1, len(blurred)):
                result = ops.where(pick == index, blurred[index], result)
            return result / (ops.max(result, axis=(1, 2, 3), keepdims=True) + 1e-6)

        def get_config(self):
            return {**super().get_config(), "sigma": self.sigma}

    class RandomGaps(_RealInputLayer):
        """Up to `gaps` breaks in the strokes: a thin band (2 px) cut across the digit at a random place."""

        def __init__(self, gaps: int = 2, **kwargs):
            super().__init__(**kwargs)
            self.gaps = int(gaps)

        def change(self, images):
            batch = ops.shape(images)[0]
            rows, cols = _grid(images)
            keep = ops.ones_like(images[..., 0])
            for _ in range(self.gaps):
                # a short cut: a 2-px band along a random direction, 5-8 px long, inside the 20x20 box
                centre = keras.random.uniform((batch, 2, 1, 1), 6.0, 22.0, seed=self.seed_generator)
                angle = keras.random.uniform((batch, 1, 1), 0.0, np.pi, seed=self.seed_generator)
                used = keras.random.uniform((batch, 1, 1), seed=self.seed_generator) < 0.7
                along = (rows - centre[:, 0]) * ops.cos(angle) + (cols - centre[:, 1]) * ops.sin(angle)
                across = -(rows - centre[:, 0]) * ops.sin(angle) + (cols - centre[:, 1]) * ops.cos(angle)
                band = (ops.abs(across) < 1.0) & (ops.abs(along) < 3.5) & used
                keep = keep * (1.0 - ops.cast(band, "float32"))
            return images * keep[..., None]

        def get_config(self):
            return {**super().get_config(), "gaps": self.gaps}

    class RandomPaperTexture(_RealInputLayer):
        """What survives of the paper: faint smooth grain over the background, and sometimes the
        remains of a ruling line (a faint horizontal line), both at most `strength` bright."""

        def __init__(self, strength: float = 0.15, **kwargs):
            super().__init__(**kwargs)
            self.strength = float(strength)
            self.kernel = _gaussian_kernel(1.0)

        def change(self, images):
            batch = ops.shape(images)[0]
            grain = keras.random.uniform((batch, SIDE, SIDE, 1), seed=self.seed_generator)
            grain = ops.conv(grain, ops.convert_to_tensor(self.kernel), padding="same")
            grain = ops.clip((grain - 0.55) * 4.0, 0.0, 1.0)  # sparse soft specks
            level = keras.random.uniform((batch, 1, 1, 1), 0.0, self.strength, seed=self.seed_generator)
            rows, _ = _grid(images)
            line_row = keras.random.uniform((batch, 1, 1), 2.0, 26.0, seed=self.seed_generator)
            has_line = keras.random.uniform((batch, 1, 1), seed=self.seed_generator) < 0.3
            line = ops.cast((ops.abs(rows - line_row) < 0.75) & has_line, "float32")[..., None]
            return ops.maximum(images, level * ops.maximum(grain, line))

        def get_config(self):
            return {**super().get_config(), "strength": self.strength}

    return {
        cls.__name__: cls
        for cls in (RandomElastic, RandomSlantAspect, RandomStrokeWeight, RandomBlur, RandomGaps, RandomPaperTexture)
    }


_CLASSES: dict | None = None


def layer_classes() -> dict:
    """{name: class} of the layers (for keras custom_objects when a model that holds them is loaded)."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _layer_classes()
    return _CLASSES


def real_input_layers(settings: RealInputAugmentation | float = 0.5, seed: int = 0):
    """A keras.Sequential applying every change, each to a random share of the digits while training.

    `settings` is a RealInputAugmentation, or just the probability with the default sizes.
    """
    import keras

    if not isinstance(settings, RealInputAugmentation):
        settings = RealInputAugmentation(probability=float(settings))
    classes = layer_classes()
    p = settings.probability
    # order: shape first (as the hand makes it), then the pen, then the camera and the paper
    return keras.Sequential(
        [
            classes["RandomSlantAspect"](settings.slant, settings.aspect, probability=p, seed=seed),
            classes["RandomElastic"](
                settings.elastic_pixels, settings.elastic_smoothness, probability=p, seed=seed + 1
            ),
            classes["RandomStrokeWeight"](settings.stroke_pixels, probability=p, seed=seed + 2),
            classes["RandomGaps"](settings.gaps, probability=p / 2, seed=seed + 3),
            classes["RandomBlur"](settings.blur_sigma, probability=p / 2, seed=seed + 4),
            classes["RandomPaperTexture"](settings.texture, probability=p / 2, seed=seed + 5),
        ],
        name="real_inputs",
    )


# ---------------------------------------------------------------------------------------------
# Flagged ones: drawn on the uint8 training digits before fitting (they need the labels), as
# probes.bar_sevens draws barred sevens


ONE = 1


def add_flag(
    image: np.ndarray,
    rng: np.random.Generator | None = None,
    *,
    longest: float = 0.38,
    flattest: float = 35.0,
) -> np.ndarray:
    """Draw the flag many people put on a 1 (a short upstroke into the top of the stem, from the
    lower left) on a uint8 28x28 one, white on black, about as thick as the digit's own stroke.

    MNIST's ones are nearly all plain strokes, so a model trained on them reads a flagged 1 as a 7.
    """
    rng = rng or np.random.default_rng(0)
    ink_rows = np.flatnonzero(image.max(axis=1) > 64)
    if len(ink_rows) < 8:
        return image.copy()
    top, bottom = int(ink_rows[0]), int(ink_rows[-1])
    height = bottom - top + 1
    top_cols = np.flatnonzero(image[top : top + 2].max(axis=0) > 64)
    column = float(top_cols.mean())
    stroke = max(1.5, float((image > 128).sum()) / height)  # ink per row of a plain stroke ~ its width
    length = rng.uniform(FLAG_SHORTEST, longest) * height
    angle = np.deg2rad(rng.uniform(flattest, FLAG_STEEPEST))  # below the horizontal, towards the left
    end = (column - length * np.cos(angle), top + length * np.sin(angle))
    scale = 4  # drawn large and shrunk, for anti-aliased edges like MNIST's
    from PIL import ImageDraw

    canvas = Image.new("L", (28 * scale, 28 * scale), 0)
    ImageDraw.Draw(canvas).line(
        [((column + 0.5) * scale, (top + 0.5) * scale), ((end[0] + 0.5) * scale, (end[1] + 0.5) * scale)],
        fill=255,
        width=max(1, int(round(stroke * scale))),
    )
    flag = np.asarray(canvas.resize((28, 28), Image.Resampling.BOX))
    return np.maximum(image, flag)


def flag_ones(
    images: np.ndarray,
    labels: np.ndarray,
    fraction: float,
    seed: int = 0,
    *,
    longest: float = 0.38,
    flattest: float = 35.0,
) -> np.ndarray:
    """A copy of uint8 `images` where a random `fraction` of the ones carry a flag (training augmentation)
    up to `longest` of the one's height long and as flat as `flattest` degrees below the horizontal."""

    def flag(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return add_flag(image, rng, longest=longest, flattest=flattest)

    return draw_on_share(images, labels, ONE, fraction, seed, flag, "flagged-one")
