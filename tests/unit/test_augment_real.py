"""Tests for digitcore.augment_real: training augmentations that look like real inputs after preprocessing."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitcore import augment_real


@pytest.fixture(scope="module")
def classes():
    import digitcore

    digitcore.import_tensorflow_quietly()
    return augment_real.layer_classes()


@pytest.fixture(scope="module")
def digits(mnist) -> np.ndarray:
    return (mnist.x_test[:32] / 255.0).astype(np.float32)[..., None]


def bar(batch: int = 16) -> np.ndarray:
    """Vertical bars 3 px wide, 20 px tall, in the middle of 28x28: shears and gaps are easy to see on them."""
    images = np.zeros((batch, 28, 28, 1), np.float32)
    images[:, 4:24, 13:16] = 1.0
    return images


@pytest.mark.parametrize(
    "name",
    ["RandomElastic", "RandomSlantAspect", "RandomStrokeWeight", "RandomBlur", "RandomGaps", "RandomPaperTexture"],
)
def test_each_layer_changes_digits_only_while_training(classes, digits, name):
    layer = classes[name](probability=1.0, seed=3)
    changed = np.asarray(layer(digits, training=True))
    assert changed.shape == digits.shape and changed.dtype == np.float32
    assert changed.min() >= 0.0 and changed.max() <= 1.0
    assert np.abs(changed - digits).max() > 0.1  # it really changes something
    assert np.array_equal(np.asarray(layer(digits, training=False)), digits)  # inference: untouched
    never = classes[name](probability=0.0, seed=3)
    assert np.array_equal(np.asarray(never(digits, training=True)), digits)


def test_probability_is_the_share_of_digits_changed(classes, digits):
    layer = classes["RandomBlur"](probability=0.5, seed=1)
    batch = np.repeat(digits, 8, axis=0)  # 256 digits
    changed = np.abs(np.asarray(layer(batch, training=True)) - batch).max(axis=(1, 2, 3)) > 1e-6
    assert 0.3 < changed.mean() < 0.7


def test_slant_shears_a_vertical_bar(classes):
    images = bar()
    slanted = np.asarray(
        classes["RandomSlantAspect"](slant=0.4, aspect=0.0, probability=1.0, seed=5)(images, training=True)
    )
    columns = np.arange(28)
    top = (slanted[:, 4:9, :, 0].sum(axis=1) * columns).sum(axis=1) / slanted[:, 4:9, :, 0].sum(axis=(1, 2))
    bottom = (slanted[:, 19:24, :, 0].sum(axis=1) * columns).sum(axis=1) / slanted[:, 19:24, :, 0].sum(axis=(1, 2))
    assert np.mean(np.abs(top - bottom) > 1.0) > 0.6  # most bars lean one way or the other


def test_elastic_distortion_moves_ink_but_keeps_about_as_much(classes, digits):
    warped = np.asarray(classes["RandomElastic"](pixels=1.6, probability=1.0, seed=2)(digits, training=True))
    mass_ratio = warped.sum(axis=(1, 2, 3)) / digits.sum(axis=(1, 2, 3))
    assert np.all((mass_ratio > 0.7) & (mass_ratio < 1.4))
    assert np.mean(np.abs(warped - digits)) > 0.01


def test_stroke_weight_thickens_or_thins(classes, digits):
    weighted = np.asarray(classes["RandomStrokeWeight"](probability=1.0, seed=4)(digits, training=True))
    area_before, area_after = (digits > 0.5).sum(axis=(1, 2, 3)), (weighted > 0.5).sum(axis=(1, 2, 3))
    assert np.any(area_after > area_before * 1.2) and np.any(area_after < area_before * 0.9)
    assert np.all(weighted.max(axis=(1, 2, 3)) > 0.3)  # no digit is erased


def test_gaps_only_remove_ink(classes):
    images = bar(64)
    broken = np.asarray(classes["RandomGaps"](gaps=2, probability=1.0, seed=6)(images, training=True))
    assert np.all(broken <= images)
    assert np.mean(broken.sum(axis=(1, 2, 3)) < images.sum(axis=(1, 2, 3))) > 0.2


def test_paper_texture_only_adds_faint_marks(classes, digits):
    textured = np.asarray(classes["RandomPaperTexture"](strength=0.15, probability=1.0, seed=7)(digits, training=True))
    assert np.all(textured >= digits)
    assert (textured - digits).max() <= 0.15 + 1e-6


def test_blur_keeps_the_peak_at_one(classes, digits):
    blurred = np.asarray(classes["RandomBlur"](sigma=1.0, probability=1.0, seed=8)(digits, training=True))
    assert np.allclose(blurred.max(axis=(1, 2, 3)), 1.0, atol=1e-3)


def test_a_small_model_trains_with_all_of_them(classes, digits, mnist):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            augment_real.real_input_layers(augment_real.RealInputAugmentation(probability=0.5), seed=0),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = (mnist.x_train[:2000] / 255.0).astype(np.float32)[..., None]
    history = model.fit(x, mnist.y_train[:2000], epochs=3, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.6  # it learned through the augmentation
    assert np.array_equal(model.predict_on_batch(digits), model.predict_on_batch(digits))  # deterministic at inference


def test_importing_the_module_does_not_load_keras():
    code = "import sys, digitcore.augment_real; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    project = Path(augment_real.__file__).resolve().parents[1]
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project
    ).stdout
    assert output.split() == ["False", "False"]


def test_flag_ones_adds_a_flag_up_and_left_of_the_stem_of_chosen_ones_only(mnist):
    images, labels = mnist.x_test[:400], mnist.y_test[:400]
    flagged = augment_real.flag_ones(images, labels, 1.0, seed=0)
    changed = np.flatnonzero((flagged != images).any(axis=(1, 2)))
    ones = np.flatnonzero(labels == 1)
    assert set(changed) <= set(ones) and len(changed) >= 0.9 * len(ones)  # only ones, nearly all of them
    for index in changed[:20]:
        added = (flagged[index].astype(int) - images[index]) > 64
        top_rows = np.flatnonzero(images[index].max(axis=1) > 64)
        stem_top = np.flatnonzero(images[index][top_rows[0]] > 64).mean()
        rows, cols = np.nonzero(added)
        assert cols.min() < stem_top - 1  # the flag reaches out to the left of the stem's top ...
        assert rows.max() < top_rows[0] + 0.6 * (top_rows[-1] - top_rows[0])  # ... in the upper part
    assert np.all(flagged >= images)  # ink is only added
    half = augment_real.flag_ones(images, labels, 0.5, seed=0)
    assert abs((half != images).any(axis=(1, 2)).sum() - 0.5 * len(ones)) <= 1
    with pytest.raises(ValueError):
        augment_real.flag_ones(images, labels, 1.5)


def test_a_longer_flatter_flag_geometry_reaches_further_left_and_lower_on_the_same_ones(mnist):
    images, labels = mnist.x_test[:400], mnist.y_test[:400]
    ones = np.flatnonzero(labels == 1)[:30]

    def reach(flagged: np.ndarray) -> float:
        """How far the added ink reaches left of the stem's top, on average, in pixels."""
        distances = []
        for index in ones:
            added = (flagged[index].astype(int) - images[index]) > 64
            top = np.flatnonzero(images[index].max(axis=1) > 64)[0]
            if added.any():
                distances.append(np.flatnonzero(images[index][top] > 64).mean() - np.nonzero(added)[1].min())
        return float(np.mean(distances))

    short = augment_real.flag_ones(images, labels, 1.0, seed=0)  # the first geometry: 0.22-0.38, 35-60 degrees
    long = augment_real.flag_ones(images, labels, 1.0, seed=0, longest=0.6, flattest=20)
    assert reach(long) > reach(short) + 1.0
