"""Looking inside models: layer tables, filters, feature maps checked by hand, saliency maps."""

import gc

import numpy as np
import pytest

from digitcore import explain
from digitcore.architectures import get_preset


@pytest.fixture(scope="module")
def models():
    """Untrained but real networks: the shapes and arithmetic under test do not need training."""
    import keras

    keras.utils.set_random_seed(0)
    built = {name: get_preset(name).build() for name in ("keras_basic", "digitnet", "dense_baseline")}
    yield built
    built.clear()
    gc.collect()  # drop them now, so no later test sees them leave the per-model caches


@pytest.fixture(scope="module")
def digit(mnist):
    return mnist.x_test[0].astype(np.float32) / 255.0  # a 7


def test_layer_summary_lists_every_layer_and_all_parameters(models):
    for model in models.values():
        rows = explain.layer_summary(model)
        assert [row["layer"] for row in rows] == [layer.name for layer in model.layers]
        assert sum(row["parameters"] for row in rows) == model.count_params()
    conv = next(row for row in explain.layer_summary(models["keras_basic"]) if row["type"] == "Conv2D")
    assert conv["output shape"] == "26×26×32" and conv["parameters"] == 320


@pytest.mark.parametrize(
    "name, shape",
    [
        ("keras_basic", (32, 3, 3)),  # Conv2D(32, 3)
        ("digitnet", (32, 5, 5)),  # Conv2D(32, 5) stem
    ],
)
def test_first_layer_filters_are_the_first_kernels(models, name, shape):
    filters = explain.first_layer_filters(models[name])
    assert filters.shape == shape and filters.dtype == np.float32
    kernel = models[name].layers[1].get_weights()[0]
    np.testing.assert_array_equal(filters[3], kernel[:, :, 0, 3])


def test_a_model_without_convolutions_says_so(models, digit):
    with pytest.raises(ValueError, match="no convolution layer"):
        explain.first_layer_filters(models["dense_baseline"])
    assert explain.feature_maps(models["dense_baseline"], digit) == []


def test_feature_maps_cover_every_convolution_and_pooling_layer(models, digit):
    maps = explain.feature_maps(models["keras_basic"], digit)
    assert [(m.kind, m.maps.shape) for m in maps] == [
        ("convolution", (26, 26, 32)),
        ("pooling", (13, 13, 32)),
        ("convolution", (11, 11, 64)),
        ("pooling", (5, 5, 64)),
    ]
    assert len(explain.feature_maps(models["digitnet"], digit)) == 6  # 4 convolutions, 2 poolings


def test_the_first_feature_map_matches_a_convolution_done_by_hand(models, digit):
    model = models["keras_basic"]
    kernel, bias = model.layers[1].get_weights()  # (3, 3, 1, 32), (32,)
    by_hand = np.zeros((26, 26, 32), dtype=np.float64)
    for row in range(3):
        for col in range(3):
            by_hand += digit[row : row + 26, col : col + 26, None] * kernel[row, col, 0]
    by_hand = np.maximum(by_hand + bias, 0.0)  # the layer's ReLU
    first = explain.feature_maps(model, digit)[0].maps
    np.testing.assert_allclose(first, by_hand, atol=1e-5)
    pooled = explain.feature_maps(model, digit)[1].maps
    np.testing.assert_allclose(pooled, first.reshape(13, 2, 13, 2, 32).max(axis=(1, 3)), atol=1e-6)


@pytest.mark.parametrize("method", explain.SALIENCY_METHODS)
def test_saliency_maps_are_28x28_and_scaled_to_one(models, digit, method):
    importance = explain.saliency(models["keras_basic"], digit, method=method)
    assert importance.shape == (28, 28) and importance.dtype == np.float32
    assert importance.min() >= 0.0 and importance.max() == pytest.approx(1.0)


def test_occlusion_ignores_patches_with_no_ink(models):
    image = np.zeros((28, 28), dtype=np.float32)
    image[10:18, 12:16] = 1.0  # a short bar in the middle
    importance = explain.occlusion_saliency(models["keras_basic"], image, digit=1, patch=4, stride=2)
    # every 4x4 patch covering a pixel of the top rows lies in black background: hiding it changes nothing
    assert np.all(importance[:4] == 0.0) and np.all(importance[-4:] == 0.0)


def test_occlusion_of_the_inked_patches_only_equals_occluding_every_patch(models, digit):
    # The map skips the model call for patches that hold no ink; it must be the map of all patches.
    from digitcore import inference

    model, patch, stride = models["keras_basic"], 4, 2
    chosen = int(np.argmax(inference.predict(model, digit[None])[0]))
    corners = [(row, col) for row in range(0, 25, stride) for col in range(0, 25, stride)]
    copies = np.repeat(digit[None].astype(np.float32), len(corners), axis=0)
    for index, (row, col) in enumerate(corners):
        copies[index, row : row + patch, col : col + patch] = 0.0
    drops = inference.predict(model, digit[None])[0, chosen] - inference.predict(model, copies)[:, chosen]
    total, covered = np.zeros((28, 28)), np.zeros((28, 28))
    for drop, (row, col) in zip(drops, corners):
        total[row : row + patch, col : col + patch] += drop
        covered[row : row + patch, col : col + patch] += 1
    every_patch = np.clip(total / covered, 0, None)
    every_patch = every_patch / every_patch.max()
    fast = explain.occlusion_saliency(model, digit, digit=chosen, patch=patch, stride=stride)
    assert np.abs(fast - every_patch).max() < 1e-4


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda model: explain.saliency(model, np.zeros((28, 28)), method="magic"), "Unknown saliency method"),
        (lambda model: explain.saliency(model, np.zeros((14, 14))), "one 28x28 digit"),  # wrong size
        (lambda model: explain.feature_maps(model, np.zeros((2, 28, 28))), "one 28x28 digit"),  # a batch
        (lambda model: explain.occlusion_saliency(model, np.zeros((28, 28)), patch=4, stride=5), "stride"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(models, call, message):
    with pytest.raises(ValueError, match=message):
        call(models["keras_basic"])
