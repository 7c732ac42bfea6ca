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
    assert raw.text[brightest] == str(digit[brightest]) and normalised.text[brightest] == "1"
    faint = np.unravel_index(np.argmin(np.where(digit > 0, digit.astype(int), 256)), digit.shape)
    assert normalised.text[faint] == f"{digit[faint] / 255:.2f}".lstrip("0")  # ".01", not "0.01"
    assert max(len(text) for text in np.asarray(normalised.text).ravel()) <= 3  # as wide as "255": no overlap


def test_pixel_heatmap_text_never_rounds_ink_to_background():
    values = np.zeros((28, 28), dtype=np.float32)
    values[0, :4] = [0.004, 0.07, 0.996, 0.5]
    text = np.asarray(plots.pixel_heatmap(values, normalised=True).data[0].text)
    assert list(text[0, :5]) == [".00", ".07", "1", ".50", "0"]


def test_sample_grid_labels_each_tile():
    images = np.zeros((12, 28, 28), dtype=np.uint8)
    figure = plots.sample_grid(images, labels=list(range(10)) + [3, 3], columns=6)
    assert [annotation.text for annotation in figure.layout.annotations] == [str(d) for d in range(10)] + ["3", "3"]
    row_gap = plots.title_gap([str(d) for d in range(10)], columns=6, width=28)
    assert np.asarray(figure.data[0].z).shape == (2 * 28 + row_gap, 6 * 28 + 5 * 2)  # room for titles between rows
    assert figure.layout.annotations[6].y == 28 + row_gap - 0.5  # the second row's titles sit in that room


@pytest.mark.parametrize(
    "titles, columns, width",
    [
        (["7"] * 12, 12, 28),  # Explore's sample grid: one-line labels, twelve across
        (["#4761<br>100 %"] * 8, 8, 28),  # Evaluate's mistakes: two-line titles
        ([str(i) for i in range(32)], 16, 5),  # Inside's 5x5 filters, sixteen across
    ],
)
def test_tile_titles_fit_between_rows_on_a_phone(titles, columns, width):
    row_gap = plots.title_gap(titles, columns, width)
    pixels_per_unit = plots.NARROWEST_PLOT / (columns * (width + 2) - 2)
    lines = titles[0].count("<br>") + 1
    assert row_gap * pixels_per_unit >= lines * plots.TILE_TITLE_LINE + plots.TILE_TITLE_PAD  # the band holds it


def test_titles_sit_below_the_toolbar():
    figure = plots.class_balance([1] * 10, [2] * 10)
    assert figure.layout.margin.t >= plots.TOOLBAR_BAND + plots.TITLE_BAND
    assert (
        figure.layout.title.yref == "paper" and figure.layout.title.yanchor == "bottom" and figure.layout.title.y == 1
    )


@pytest.mark.parametrize(
    "figure",
    [
        plots.class_balance([1] * 10, [2] * 10),
        plots.per_class_metrics([{"digit": d, "precision": 0.99, "recall": 0.98, "f1": 0.985} for d in range(10)]),
    ],
)
def test_class_charts_label_all_ten_digits(figure):
    assert figure.layout.xaxis.type == "category" and list(figure.layout.xaxis.tickvals) == plots.DIGITS


@pytest.mark.parametrize(
    "history, names",
    [
        (
            [{"epoch": 1, "loss": 0.5, "accuracy": 0.9, "val_loss": None, "val_accuracy": None}],
            ["training", "training"],
        ),  # no validation split (digitnet's recipe)
        (
            [
                {"epoch": 1, "loss": 0.5, "accuracy": 0.9, "val_loss": 0.4, "val_accuracy": 0.92},
                {"epoch": 2, "loss": 0.3, "accuracy": 0.95, "val_loss": 0.35, "val_accuracy": 0.93},
            ],
            ["training", "validation", "training", "validation"],
        ),  # loss then accuracy panels
    ],
)
def test_training_curves_draw_what_the_history_holds(history, names):
    loss, accuracy = plots.training_curves(plots.points_of_epochs(history))
    assert [trace.name for trace in (*loss.data, *accuracy.data)] == names
    assert list(accuracy.data[-1].x) == [event["epoch"] for event in history]
    assert list(accuracy.data[-1].y) == [
        event[("val_" if names[-1] == "validation" else "") + "accuracy"] for event in history
    ]


def test_live_curves_run_in_fractions_of_an_epoch_and_validation_only_where_scored():
    points = [
        {"epochs_done": 0.02 * step, "digits_seen": 1140 * step, "loss": 2.0 / step, "accuracy": 0.1 * min(step, 9)}
        for step in range(1, 51)
    ]
    for index in (9, 19, 49):
        points[index] = {**points[index], "val_loss": 0.5, "val_accuracy": 0.9}
    loss, accuracy = plots.training_curves(points)
    training, validation = accuracy.data
    assert list(training.x) == pytest.approx([0.02 * step for step in range(1, 51)])  # 50 points in one epoch
    assert list(validation.x) == pytest.approx([0.2, 0.4, 1.0]) and validation.mode == "lines+markers"
    assert loss.layout.title.text == "Loss" and accuracy.layout.title.text == "Accuracy"


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
    rows = [
        {"model": "a", "parameters": 1000, "accuracy": 0.99},
        {"model": "b", "parameters": 50000, "accuracy": 0.995},
        {"model": "weak", "parameters": 2000, "accuracy": 0.08},
    ]
    figure = plots.model_comparison(rows)
    assert [trace.name for trace in figure.data] == ["a", "b", "weak"]  # one legend entry per model
    assert [trace.x[0] for trace in figure.data] == [1000, 50000, 2000]
    assert [trace.y[0] for trace in figure.data] == pytest.approx([1.0, 0.5, 92.0])
    assert all(trace.mode == "markers" for trace in figure.data)  # no names printed over each other
    assert figure.layout.yaxis.type == "log"  # 92 % error does not squash 0.5 % onto zero


def test_the_log_error_axis_writes_whole_values_with_their_unit():
    """Issue 28: Plotly's log ticks read "2, 1, 9, 8 … 3", where 9 meant 0.9 %."""
    rows = [
        {"model": "best", "parameters": 9_000, "accuracy": 0.9974},
        {"model": "mid", "parameters": 120_000, "accuracy": 0.991},
        {"model": "weak", "parameters": 1_200_000, "accuracy": 0.97},
    ]
    figure = plots.model_comparison(rows)
    assert figure.layout.yaxis.tickmode == "array"
    assert list(figure.layout.yaxis.ticktext) == ["0.3 %", "0.5 %", "1 %", "2 %", "3 %"]  # 0.26 % to 3 %
    assert list(figure.layout.yaxis.tickvals) == pytest.approx([0.3, 0.5, 1, 2, 3])
    assert len(figure.layout.xaxis.ticktext) <= 4 and "100k" in figure.layout.xaxis.ticktext
    assert figure.layout.legend.orientation == "h"  # under the plot: on a phone it takes rows, not width


def test_a_models_colour_stays_when_another_model_is_added():
    names = ["digitnet", "bn_cnn", "keras_basic", "larger_cnn", "simple_cnn"]
    before = plots.model_colours(names)
    after = plots.model_colours([*names, "aaa_new_model", "my_keras_basic"])
    assert all(after[name] == before[name] for name in names)
    assert len(set(before.values())) == len(names)  # different models, different colours
    rows = [{"model": name, "parameters": 1000 * (i + 1), "accuracy": 0.99} for i, name in enumerate(names)]
    figure = plots.model_comparison(rows)
    assert {trace.name: trace.marker.color for trace in figure.data} == before


@pytest.mark.parametrize("count", [1, 3, 40])
def test_an_image_grid_is_as_wide_as_its_tiles_without_axis_ticks(count):
    """Issue 28: galleries had stray tick marks, and a single mistake sat alone in a page-wide strip."""
    figure = plots.image_grid(np.zeros((count, 28, 28)), titles=["#1<br>90 %"] * count, columns=8, tile_height=70)
    shown = min(count, 8)
    plot_width = figure.layout.width - plots.MARGIN["l"] - plots.MARGIN["r"]
    assert plot_width == pytest.approx(shown * 70 * 30 / 28, abs=5)  # 70 px a tile (plus the 2-unit gaps)
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert axis.ticks == "" and axis.showticklabels is False and axis.showline is False


def test_a_clickable_image_grid_tells_which_tile_was_tapped():
    figure = plots.image_grid(np.zeros((32, 5, 5)), columns=8, clickable=True, value_label="weight")
    picker = next(trace for trace in figure.data if trace.name == plots.TILE_PICKER)
    assert len(picker.x) == 32 and list(picker.customdata) == list(range(32))
    assert (picker.x[9], picker.y[9]) == (1 * 7 + 2, 1 * (5 + plots.title_gap([], 8, 5)) + 2)  # row 1, column 1
    # what Streamlit reports for a tap on tile 9's marker
    assert plots.picked_tile([{"curve_number": 1, "point_index": 9, "customdata": 9}]) == 9
    assert plots.picked_tile([]) is None


def test_a_clickable_confusion_matrix_has_one_picker_per_cell():
    matrix = np.diag(np.full(10, 980)) + np.eye(10, k=1, dtype=int) * 3
    figure = plots.confusion_matrix(matrix, normalised=False, selected=(4, 5), clickable=True)
    picker = next(trace for trace in figure.data if trace.name == plots.CELL_PICKER)
    assert len(picker.x) == 100 and (picker.y[45], picker.x[45]) == ("4", "5")
    assert picker.customdata[45] == 3
    outline = figure.layout.shapes[0]
    assert (outline.x0, outline.x1, outline.y0, outline.y1) == (4.5, 5.5, 3.5, 4.5)
    # what Streamlit reports for a click on that cell's marker
    assert plots.picked_cell([{"curve_number": 1, "point_index": 45, "x": "5", "y": "4"}]) == (4, 5)
    assert plots.picked_cell([]) is None


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


def _as_sent(figure: go.Figure) -> dict:
    """The figure as Streamlit sends it to the browser (parsed back, so key order does not matter)."""
    import json

    import plotly.io

    return json.loads(plotly.io.to_json(figure.to_dict(), validate=False))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("theme", ["plotly", "streamlit"])
def test_the_per_stroke_figures_are_the_validated_figures(seed, theme, monkeypatch):
    """Try it builds these two from a template checked once; what reaches the browser is the same, in
    Plotly's own theme and in the one Streamlit installs (the template is cached across both)."""
    import plotly.io

    if theme == "streamlit":
        import streamlit.elements.lib.streamlit_plotly_theme  # noqa: F401  (registers the theme)
    monkeypatch.setattr(plotly.io.templates, "default", theme)
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(10))
    digit = int(rng.integers(10))
    image, saliency = rng.random((2, 28, 28)).astype(np.float32)
    assert _as_sent(plots.probability_bars(probabilities, digit)) == _as_sent(
        plots.validated_probability_bars(probabilities, digit)
    )
    assert _as_sent(plots.saliency_overlay(image, saliency)) == _as_sent(
        plots.validated_saliency_overlay(image, saliency)
    )
    changed = plots.saliency_overlay(image, saliency)
    changed.update_layout(title_text="changed")  # a caller changing its figure does not change the next one
    assert _as_sent(plots.saliency_overlay(image, saliency)) == _as_sent(
        plots.validated_saliency_overlay(image, saliency)
    )
