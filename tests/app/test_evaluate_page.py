"""Evaluate in AppTest: the picked cell follows the model, another cell's gallery shows its digits, the
row-normalised view, the probe examples, tables show whole numbers, the gallery says when it is
limited, and a missing published accuracy is a dash."""

import base64
import json
import re

import numpy as np
import pytest

from digitcore import evaluation, export, probes, registry


def _texts(app) -> str:
    return " ".join(
        str(element.value)
        for kind in ("info", "warning", "success", "caption", "markdown")
        for element in getattr(app, kind)
    )


def _shown_cell(app) -> str:
    """The text the select box shows for its current choice."""
    box = app.selectbox(key="eval_cell")
    return box.options[box.index]


def _frame(app, column: str):
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def test_the_picked_cell_belongs_to_the_model_in_the_sidebar(open_page):
    app = open_page("evaluate")
    cells = app.selectbox(key="eval_cell").options
    last = len(cells) - 1
    app.selectbox(key="eval_cell").select_index(last).run()
    picked = app.selectbox(key="eval_cell").value
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()
    assert not app.exception
    count = int(re.search(r"· ([\d,]+) digit\(s\)$", _shown_cell(app)).group(1).replace(",", ""))
    mistakes = _frame(app, "test index")
    assert count == len(mistakes)  # the box's count is this model's, as the table and caption are
    assert f"{count:,} test digit(s) labelled" in _texts(app)
    app.sidebar.selectbox(key="model_picker").set_value("small_cnn").run()
    assert app.selectbox(key="eval_cell").value == picked  # the pick made for small_cnn comes back with it


def test_the_gallery_says_when_it_shows_only_some_mistakes(open_page, mnist):
    app = open_page("evaluate")
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()  # a weak model: many mistakes
    mistakes = _frame(app, "test index")
    gallery_note = re.search(r"The (\d+) most confident of these ([\d,]+) mistakes", _texts(app))
    if len(mistakes) > 40:
        assert gallery_note and gallery_note.groups() == ("40", f"{len(mistakes):,}")
    else:
        assert gallery_note is None


def test_mistake_probabilities_are_numbers_never_cut_to_zero(open_page, models_dir, mnist):
    app = open_page("evaluate")
    true_digit, predicted_digit = app.selectbox(key="eval_cell").value
    mistakes = _frame(app, "test index")
    model = registry.load(models_dir / "small_cnn.keras")
    expected = evaluation.predict_probabilities(model, mnist.x_test[mistakes["test index"].to_numpy()])
    np.testing.assert_allclose(mistakes[f"p({true_digit})"], expected[:, true_digit], rtol=1e-4, atol=1e-6)
    config = next(frame for frame in app.dataframe if "test index" in frame.value.columns).proto.columns
    assert "%.3g" in config  # three significant digits: 0.0000123, not 0


def test_probe_and_comparison_tables_show_whole_numbers(open_page, models_dir):
    app = open_page("evaluate")
    probes = _frame(app, "probe")
    assert list(probes.columns) == ["probe", "accuracy", "n"]
    assert all(re.fullmatch(r"\d{1,3}\.\d %", accuracy) for accuracy in probes["accuracy"])
    assert "1,000" in set(probes["n"])  # the digits behind each accuracy, with a separator
    comparison = _frame(app, "error rate (%)")
    cards = {entry.name: entry.card for entry in registry.list_models(models_dir)}
    for _, row in comparison.iterrows():
        published = cards[row["model"]].get("published_accuracy")
        assert row["published accuracy"] == ("—" if published is None else f"{100 * published:.2f} %")
        assert row["parameters"] == f"{cards[row['model']]['parameters']:,}"
    assert "None" not in comparison.astype(str).to_numpy().ravel().tolist()


def test_the_comparison_table_writes_a_dash_for_an_ensembles_epochs_and_the_same_decimals(open_page, models_dir, mnist):
    """Issue 28: the ensemble's epochs and time showed a raw "None", and error % "0.8" beside "0.83"."""
    from digitcore import ensemble

    ensemble.build_and_save(["small_cnn", "small_dense"], "pair", directory=models_dir, mnist=mnist)
    app = open_page("evaluate")
    comparison = _frame(app, "error rate (%)").set_index("model")
    assert comparison.loc["pair", "epochs"] == comparison.loc["pair", "training time (s)"] == "—"
    assert comparison.loc["small_cnn", "epochs"] == "2"
    for column, decimals in (("accuracy", 4), ("error rate (%)", 2), ("size (MB)", 2)):
        assert all(re.fullmatch(rf"\d+\.\d{{{decimals}}}", value) for value in comparison[column]), column
    cards = {entry.name: entry.card for entry in registry.list_models(models_dir)}
    for name, row in comparison.iterrows():
        assert row["error rate (%)"] == f"{100 * (1 - cards[name].test_accuracy):.2f}"


def test_evaluate_offers_the_model_in_every_export_format(open_page):
    app = open_page("evaluate")
    buttons = {button.proto.label: button.proto for button in app.get("download_button")}
    assert set(buttons) == {"Keras (.keras)", "TensorFlow Lite (.tflite)", "ONNX (.onnx)"}
    assert not any(button.disabled for button in buttons.values())  # tf2onnx is pinned: ONNX works here
    app.radio(key="eval_download_snippet").set_value(export.ExportFormat.ONNX).run()
    assert 'onnxruntime.InferenceSession("small_cnn.onnx")' in app.code[0].value


@pytest.mark.parametrize("model", ["small_cnn", "small_dense"])  # a CNN, then a model with fewer parameters
def test_the_parameter_metric_has_thousands_separators(open_page, model):
    app = open_page("evaluate")
    app.sidebar.selectbox(key="model_picker").set_value(model).run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", metrics["Parameters"])


def _gallery_indices(app) -> list[int]:
    """The test indices the mistake gallery shows, from its tile titles ("#1234<br>97 %")."""
    for chart in app.get("plotly_chart"):
        titles = [annotation["text"] for annotation in json.loads(chart.proto.spec)["layout"].get("annotations", [])]
        if titles and all(title.startswith("#") for title in titles):
            return [int(title[1:].split("<br>")[0]) for title in titles]
    return []


def test_picking_another_cell_shows_the_digits_the_model_read_as_that_class(open_page, models_dir, mnist):
    app = open_page("evaluate")
    first_cell, first_gallery = app.selectbox(key="eval_cell").value, _gallery_indices(app)
    app.selectbox(key="eval_cell").select_index(1).run()  # the second most frequent confusion
    true_digit, predicted_digit = app.selectbox(key="eval_cell").value
    assert not app.exception and (true_digit, predicted_digit) != first_cell
    count = int(re.search(r"· ([\d,]+) digit\(s\)$", _shown_cell(app)).group(1).replace(",", ""))
    shown = _gallery_indices(app)
    assert len(shown) == min(count, 40) and shown != first_gallery
    assert shown == _frame(app, "test index")["test index"].tolist()[: len(shown)]  # the table's first rows
    # Each tile is a test digit labelled true_digit that the model reads as predicted_digit.
    assert set(mnist.y_test[shown]) == {true_digit}
    model = registry.load(models_dir / "small_cnn.keras")
    assert set(evaluation.predict_probabilities(model, mnist.x_test[shown]).argmax(1)) == {predicted_digit}


def _confusion_counts(app) -> np.ndarray:
    """The confusion matrix's numbers (its heatmap's customdata) as shown."""
    for chart in app.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("type") == "heatmap" and "customdata" in trace:
                return _array(trace["customdata"])
    raise AssertionError("no confusion matrix on the page")


def _array(values) -> np.ndarray:
    """A Plotly array: a nested list, or the typed array newer Plotly writes for numpy data."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return flat.reshape([int(size) for size in str(values.get("shape", len(flat))).split(",")])
    return np.asarray(values, dtype=float)


def test_the_row_normalised_view_shows_each_true_digit_as_shares(open_page, mnist):
    app = open_page("evaluate")
    counts = _confusion_counts(app)
    assert counts.sum() == 10000 and counts.sum(axis=1).tolist() == np.bincount(mnist.y_test, minlength=10).tolist()
    app.radio(key="eval_view").set_value("row-normalised").run()
    assert not app.exception
    shares = _confusion_counts(app)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(shares, counts / counts.sum(axis=1, keepdims=True), atol=1e-6)


def _probe_tiles(app) -> np.ndarray:
    """The pixels of the probe examples' image grid (the chart under "Examples of")."""
    charts = [chart for chart in app.get("plotly_chart") if chart.proto.id and "probe_images" in chart.proto.id]
    (chart,) = charts
    return _array(json.loads(chart.proto.spec)["data"][0]["z"])


def test_the_probe_examples_follow_the_chosen_probe(open_page):
    app = open_page("evaluate")
    app.selectbox(key="probe_examples").set_value("barred_sevens").run()
    barred = _probe_tiles(app)
    app.selectbox(key="probe_examples").set_value("thick").run()
    assert not app.exception
    thick = _probe_tiles(app)
    assert barred.shape != thick.shape or not np.array_equal(barred, thick, equal_nan=True)  # gaps are NaN
    box = app.selectbox(key="probe_examples")
    assert box.options[box.index] == probes.PROBES["thick"][0]  # shown by its title
