"""Tests for digitcore.inference: the compiled fast path, predictions, and invariance of the whole pipeline."""

import gc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from digitcore import inference, registry
from digitcore.reading import preprocess
from test_preprocess import as_rgba, big_digit

SMALL_MODEL = "small"


def small_model_directory(tmp_path_factory, mnist) -> Path:
    """A models folder holding a small real model (~97.8 %, trained once per session in ~10 s) as its default.

    keras_basic (no BatchNorm) learns MNIST in a couple of epochs on a subset; BatchNorm models like
    digitnet need more steps than that before their moving statistics are usable.
    """
    from digitcore import architectures, training

    directory = tmp_path_factory.getbasetemp() / "small-model"
    if not (directory / f"{SMALL_MODEL}.keras").is_file():
        preset = architectures.PRESETS["keras_basic"]
        recipe = preset.recipe.with_overrides(
            epochs=3, validation_split=0.0, augmentation=architectures.DIGITNET_AUGMENTATION
        )
        training.train_and_save(
            preset,
            recipe=recipe,
            limit=20000,
            name=SMALL_MODEL,
            make_default=True,
            models_directory=directory,
            mnist=mnist,
        )
    return directory


@pytest.fixture(scope="session")
def model(tmp_path_factory, mnist):
    """The shipped default model when present, else the small one trained for the tests."""
    try:
        return registry.load(registry.default_model_path())
    except registry.ModelFileError:
        return registry.load(SMALL_MODEL, small_model_directory(tmp_path_factory, mnist))


@pytest.mark.parametrize(
    "shape, rows",
    [
        ((28, 28), 1),  # one image
        ((5, 28, 28), 5),  # a batch without the channel axis
        ((3, 28, 28, 1), 3),  # the model's own layout
        ((0, 28, 28), 0),  # nothing to do
        ((inference.BATCH_SIZE + 7, 28, 28), inference.BATCH_SIZE + 7),  # more than one slice
    ],
)
def test_predict_shapes(model, mnist, shape, rows):
    count = shape[0] if len(shape) > 2 else 1
    images = (mnist.x_test[:count] / 255.0).astype(np.float32).reshape(shape)
    probabilities = inference.predict(model, images)
    assert probabilities.shape == (rows, 10) and probabilities.dtype == np.float32
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize(
    "shape",
    [
        (28, 27),  # not 28x28
        (2, 28, 28, 3),  # three channels
        (784,),  # flattened
    ],
)
def test_predict_refuses_other_shapes(model, shape):
    with pytest.raises(ValueError, match="28x28"):
        inference.predict(model, np.zeros(shape, dtype=np.float32))


def test_predict_matches_a_direct_model_call(model, mnist):
    images = (mnist.x_test[:64, ..., None] / 255.0).astype(np.float32)
    expected = np.asarray(model(images, training=False))
    assert np.allclose(inference.predict(model, images), expected, atol=1e-5)


def test_the_compiled_call_is_made_once_per_model_and_dropped_with_it(model, trained_models):
    first = inference._fast_call(model)
    assert inference._fast_call(model) is first
    # Any second real model will do: the session's small CNN (tests/conftest.py), which the app's tests
    # train anyway, rather than the small model above, which only this test of the module would train.
    other = registry.load("small_cnn", trained_models)
    assert inference._fast_call(other) is not first
    inference.predict(other, np.zeros((28, 28), dtype=np.float32))
    gc.collect()  # models the fixture trained and evaluated (through this same path) and no longer holds
    before = len(inference._compiled)
    del other
    gc.collect()
    assert len(inference._compiled) == before - 1  # the cache does not keep a model alive


@pytest.mark.parametrize(
    "probabilities, digit, unsure, top3",
    [
        ([0.0] * 7 + [0.97, 0.02, 0.01], 7, False, [7, 8, 9]),  # a confident 7
        ([0.1] * 10, 0, True, [0, 1, 2]),  # no idea: ties keep digit order
        ([0.0, 0.5, 0.0, 0.45, 0.0, 0.05, 0, 0, 0, 0], 1, True, [1, 3, 5]),  # a 1 or a 3
        (
            [0.0] * 4 + [inference.UNSURE_THRESHOLD] + [1 - inference.UNSURE_THRESHOLD] + [0.0] * 4,
            4,
            False,
            [4, 5, 0],
        ),  # at the threshold
    ],
)
def test_prediction_marks_unsure_and_gives_top3(probabilities, digit, unsure, top3):
    prediction = inference.to_prediction(np.array(probabilities))
    assert prediction.digit == digit and prediction.unsure is unsure
    assert [d for d, _ in prediction.top3] == top3
    assert prediction.confidence == pytest.approx(probabilities[digit])
    assert len(prediction.probabilities) == 10


def test_classify_reads_mnist_test_digits(model, mnist):
    correct = [
        inference.classify(model, preprocess.to_mnist(mnist.x_test[i]).image).digit == mnist.y_test[i]
        for i in range(200)
    ]
    assert np.mean(correct) >= 0.9


def _thicken(ink: np.ndarray, radius: int) -> np.ndarray:
    pixels = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    return np.asarray(pixels.filter(ImageFilter.MaxFilter(2 * radius + 1)), dtype=np.float32) / 255


def _thin(ink: np.ndarray, radius: int) -> np.ndarray:
    pixels = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    return np.asarray(pixels.filter(ImageFilter.MinFilter(2 * radius + 1)), dtype=np.float32) / 255


VARIANTS = {
    "shifted to the top-left": lambda d: big_digit(d, height=150, at=(0, 0)),
    "shifted to the bottom-right": lambda d: big_digit(d, height=150, at=(70, 70)),
    "small": lambda d: big_digit(d, height=60, at=(30, 150)),
    "large": lambda d: big_digit(d, height=240),
    "thickened": lambda d: _thicken(big_digit(d, height=180), 5),
    "thinned": lambda d: _thin(big_digit(d, height=180), 3),
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))  # each row: one change to every digit
def test_shift_scale_thickness_keep_the_prediction(model, mnist, variant):
    """An MNIST test digit drawn on a 280x280 canvas keeps its prediction when changed."""
    changed = VARIANTS[variant]
    kept, total = 0, 0
    for index in range(100):
        digit = mnist.x_test[index]
        base = inference.classify(model, preprocess.to_mnist(as_rgba(big_digit(digit))).image).digit
        if base != mnist.y_test[index]:
            continue  # only digits the model reads right to begin with
        total += 1
        kept += inference.classify(model, preprocess.to_mnist(as_rgba(changed(digit))).image).digit == base
    assert total >= 90
    # (almost) every prediction is kept: the pipeline undoes position and size exactly and brings
    # stroke width towards MNIST's; the rest is up to the model
    print(f"{variant}: {kept}/{total} predictions kept")
    assert kept / total >= 0.95, f"{variant}: {kept}/{total} predictions kept"
