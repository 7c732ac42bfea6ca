"""Figure builders: the data that goes in is the data the figure shows; bad shapes are refused."""

import numpy as np
import plotly.graph_objects as go
import pytest

from digitcore import plots


def test_mosaic_tiles_images_with_nan_gaps():
    images = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    tiled = plots.mosaic(images, columns=2, gap=1)
    assert tiled.shape == (3 * 2 + 2, 2 * 3 + 1)  # 3 rows of tiles, 2 columns, one-pixel gaps
    np.testing.assert_array_equal(tiled[0:2, 4:7], images[1])
    np.testing.assert_array_equal(tiled[6:8, 0:3], images[4])
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[6:8, 4:7]).all()  # a gap row and the empty last tile


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: plots.mosaic(np.zeros((0, 28, 28)), columns=3), "non-empty stack"),  # nothing to tile
        (lambda: plots.mosaic(np.zeros((2, 28, 28)), columns=0), "at least one column"),
        (lambda: plots.pixel_heatmap(np.zeros((28, 27)), normalised=False), "28x28"),
        (lambda: plots.pixel_histogram(np.zeros(255)), "256 counts"),
        (lambda: plots.confusion_matrix(np.zeros((9, 9)), normalised=False), "10x10"),
        (lambda: plots.probability_bars(np.zeros(9)), "10 probabilities"),
        (lambda: plots.saliency_overlay(np.zeros((28, 28)), np.zeros((27, 28))), "two 28x28"),
    ],
)
def test_bad_shapes_are_refused_with_a_sentence(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_pixel_heatmaps_show_raw_bytes_and_normalised_values(mnist):
    digit = mnist.x_train[0]
    raw = plots.pixel_heatmap(digit, normalised=False).data[0]
    normalised = plots.pixel_heatmap(digit.astype(np.float32) / 255.0, normalised=True).data[0]
    np.testing.assert_array_equal(np.asarray(raw.z), digit)
    assert raw.zmax == 255 and normalised.zmax == 1.0
    brightest = np.unravel_index(np.argmax(digit), digit.shape)
    assert raw.text[brightest] == str(digit[brightest]) and normalised.text[brightest] == f"{digit[brightest] / 255:.2f}"


def test_sample_grid_labels_each_tile():
    images = np.zeros((12, 28, 28), dtype=np.uint8)
    figure = plots.sample_grid(images, labels=list(range(10)) + [3, 3], columns=6)
    assert [annotation.text for annotation in figure.layout.annotations] == [str(d) for d in range(10)] + ["3", "3"]
    assert np.asarray(figure.data[0].z).shape == (2 * 28 + 9, 6 * 28 + 5 * 9)  # titled tiles get 9-pixel gaps


@pytest.mark.parametrize(
    "history, names",
    [
        ([{"epoch": 1, "loss": 0.5, "accuracy": 0.9, "val_loss": None, "val_accuracy": None}],
         ["training", "training"]),  # no validation split (digitnet's recipe)
        ([{"epoch": 1, "loss": 0.5, "accuracy": 0.9, "val_loss": 0.4, "val_accuracy": 0.92},
          {"epoch": 2, "loss": 0.3, "accuracy": 0.95, "val_loss": 0.35, "val_accuracy": 0.93}],
         ["training", "validation", "training", "validation"]),  # loss then accuracy panels
    ],
)
def test_training_curves_draw_what_the_history_holds(history, names):
    figure = plots.training_curves(history)
    assert [trace.name for trace in figure.data] == names
    assert list(figure.data[-1].x) == [event["epoch"] for event in history]
    assert list(figure.data[-1].y) == [event[("val_" if names[-1] == "validation" else "") + "accuracy"]
                                       for event in history]


@pytest.mark.parametrize("normalised", [False, True])  # counts, then shares of each row
def test_confusion_matrix_writes_each_cell(normalised):
    matrix = np.diag(np.full(10, 980.0)) + np.eye(10, k=1) * 3
    shown = matrix / matrix.sum(axis=1, keepdims=True) if normalised else matrix
    heatmap = plots.confusion_matrix(shown, normalised=normalised).data[0]
    assert heatmap.text[4][5] == ("0.003" if normalised else "3")
    np.testing.assert_array_equal(np.asarray(heatmap.customdata), shown)


def test_probability_bars_highlight_the_prediction():
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    bar = plots.probability_bars(probabilities).data[0]
    assert list(bar.y) == pytest.approx(list(probabilities))
    assert [colour == plots.TEST_COLOUR for colour in bar.marker.color] == [digit == 7 for digit in range(10)]
    assert bar.text[7] == "82.0%"


def test_model_comparison_plots_error_against_size():
    rows = [{"model": "a", "parameters": 1000, "accuracy": 0.99}, {"model": "b", "parameters": 50000, "accuracy": 0.995}]
    scatter = plots.model_comparison(rows).data[0]
    assert list(scatter.x) == [1000, 50000] and list(scatter.y) == pytest.approx([1.0, 0.5])
    assert list(scatter.text) == ["a", "b"]


@pytest.mark.parametrize(
    "figure",
    [
        plots.class_balance([1] * 10, [2] * 10),
        plots.pixel_histogram(np.ones(256)),
        plots.per_class_metrics([{"digit": d, "precision": 0.99, "recall": 0.98, "f1": 0.985} for d in range(10)]),
        plots.saliency_overlay(np.zeros((28, 28)), np.ones((28, 28))),
        plots.image_grid(np.zeros((32, 5, 5)), columns=8, colorscale="RdBu_r", zmid=0.0),
    ],
)
def test_every_figure_serialises_for_the_browser(figure):
    assert isinstance(figure, go.Figure) and figure.to_json()  # what st.plotly_chart sends
