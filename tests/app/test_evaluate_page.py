"""Evaluate in AppTest: the picked cell follows the model, tables show whole numbers, the gallery says
when it is limited, and a missing published accuracy is a dash."""

import re

import numpy as np
import pytest

from digitcore import evaluation, registry


def _texts(app) -> str:
    return " ".join(str(element.value) for kind in ("info", "warning", "success", "caption", "markdown")
                    for element in getattr(app, kind))


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


@pytest.mark.parametrize("model", ["small_cnn", "small_dense"])  # a CNN, then a model with fewer parameters
def test_the_parameter_metric_has_thousands_separators(open_page, model):
    app = open_page("evaluate")
    app.sidebar.selectbox(key="model_picker").set_value(model).run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", metrics["Parameters"])
