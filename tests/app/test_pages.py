"""Every page in AppTest: renders cleanly, has its widgets, and shows the right numbers and digits."""

import base64
import hashlib
import json
import time

import numpy as np
import pytest

from app_helpers import ONE, PAD_KEY, PHOTO_SEVEN, SEVEN, canvas_value, drawing_png, photo_of_digit
from digitcore import registry

KEY_WIDGETS = {
    "explore": [
        ("selectbox", "explore_class"),
        ("slider", "explore_count"),
        ("number_input", "explore_seed"),
        ("number_input", "explore_index"),
        ("toggle", "explore_log"),
    ],
    "train": [
        ("selectbox", "train_preset"),
        ("number_input", "epochs_digitnet"),
        ("select_slider", "batch_digitnet"),
        ("number_input", "rate_digitnet"),
        ("number_input", "limit_digitnet"),
        ("toggle", "augment_digitnet"),
        ("text_input", "name_digitnet"),
        ("button", "train_start"),
    ],
    "evaluate": [("radio", "eval_view"), ("selectbox", "eval_cell")],
    "try_it": [("radio", "try_source")],  # the drawing pad draws its own Clear, Undo and pen width
    "inside": [("radio", "inside_source"), ("number_input", "inside_index"), ("slider", "inside_channels")],
}
TITLES = {
    "explore": "Explore the data",
    "train": "Train",
    "evaluate": "Evaluate",
    "try_it": "Try it",
    "inside": "Inside the CNN",
}
TRAIN_WAIT_SECONDS = 180  # a ceiling for the tiny job, never an assertion about speed


def _texts(app) -> str:
    return " ".join(
        str(element.value)
        for kind in ("info", "warning", "error", "success", "caption", "markdown")
        for element in getattr(app, kind)
    )


def _prediction(app) -> str:
    return next(metric.value for metric in app.metric if metric.label == "Prediction")


@pytest.mark.parametrize("page", list(KEY_WIDGETS))  # each of the five pages
def test_each_page_renders_with_its_widgets_and_the_default_model(open_page, page):
    app = open_page(page)
    assert not app.exception and not app.error
    assert app.title[0].value == TITLES[page]
    for kind, key in KEY_WIDGETS[page]:
        assert getattr(app, kind)(key=key) is not None, f"{page} lacks {kind} '{key}'"
    picker = app.sidebar.selectbox(key="model_picker")
    assert picker.value == "small_cnn"  # the model whose card says "default": true


def test_explore_shows_the_real_counts(open_page, mnist):
    app = open_page("explore")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Training digits"] == "60,000" and metrics["Test digits"] == "10,000"
    counts = next(frame.value for frame in app.dataframe if "train" in frame.value.columns)
    assert counts["train"].tolist() == np.bincount(mnist.y_train, minlength=10).tolist()
    assert counts["test"].tolist() == np.bincount(mnist.y_test, minlength=10).tolist()
    app.button[0].click().run()  # Reshuffle
    assert app.number_input(key="explore_seed").value == 1 and not app.exception


def test_evaluate_reports_the_model_and_its_mistakes(open_page, models_dir, mnist):
    app = open_page("evaluate")
    card = json.loads((models_dir / "small_cnn.json").read_text())
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Test accuracy"] == f"{100 * card['test_accuracy']:.2f} %"
    assert metrics["Misclassified"] == f"{round(10000 * (1 - card['test_accuracy'])):,} of 10,000"
    true_digit, predicted_digit = app.selectbox(key="eval_cell").value  # the most frequent confusion
    mistakes = next(frame.value for frame in app.dataframe if "test index" in frame.value.columns)
    assert len(mistakes) > 0 and (mnist.y_test[mistakes["test index"]] == true_digit).all()
    confidence = mistakes[f"p({predicted_digit})"].tolist()
    assert confidence == sorted(confidence, reverse=True)  # most confident first
    app.radio(key="eval_view").set_value("row-normalised").run()
    assert not app.exception


def test_evaluate_compares_every_model_in_the_folder(open_page, models_dir):
    app = open_page("evaluate")
    comparison = next(frame.value for frame in app.dataframe if "error rate (%)" in frame.value.columns)
    assert sorted(comparison["model"]) == sorted(entry.name for entry in registry.list_models(models_dir))
    assert comparison["accuracy"].is_monotonic_decreasing


@pytest.mark.skipif(not list(registry.models_dir().glob("*.keras")), reason="no shipped models in models/ yet")
def test_evaluate_compares_the_shipped_models(open_page, monkeypatch):
    monkeypatch.delenv("DIGITCORE_MODELS_DIR")
    app = open_page("evaluate")
    assert not app.exception
    comparison = next(frame.value for frame in app.dataframe if "error rate (%)" in frame.value.columns)
    shipped = [entry.name for entry in registry.list_models() if entry.problem is None]
    assert sorted(comparison["model"]) == sorted(shipped)


@pytest.mark.parametrize(
    "strokes, digit",
    [
        (ONE, "1"),  # one vertical stroke
        (SEVEN, "7"),  # a bar and a diagonal in one stroke
    ],
)
def test_try_it_reads_a_drawing(open_page, strokes, digit):
    app = open_page("try_it")
    assert "Draw a digit" in _texts(app)
    app.session_state[PAD_KEY] = canvas_value(strokes)
    app.run()
    assert not app.exception and _prediction(app) == digit
    captions = [caption for image in app.image for caption in image.captions]
    assert captions[0] == "Grayscale" and captions[-1].endswith("the model input")  # the preprocessing strip
    assert len(set(captions)) == len(captions)  # every step once: one model input, no near-twins


def test_try_it_says_so_when_the_canvas_is_blank(open_page):
    app = open_page("try_it")
    blank = "data:image/png;base64," + base64.b64encode(drawing_png([])).decode("ascii")
    app.session_state[PAD_KEY] = {
        "drawing": {"sequence": 1, "strokes": [[20, 5, 5, 5, 5]], "png": blank}
    }  # a stroke, every pixel black
    app.run()
    assert not app.exception and "No digit found" in _texts(app)
    assert not [metric for metric in app.metric if metric.label == "Prediction"]


@pytest.mark.parametrize(
    "content, expected",
    [
        (photo_of_digit(PHOTO_SEVEN), "7"),  # a photo of a 7 on paper
        (b"name,digit\nAda,7\n", "not an image"),  # a spreadsheet renamed .jpg
    ],
)
def test_try_it_reads_an_uploaded_photo(open_page, content, expected):
    app = open_page("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value(("digit.jpg", content, "image/jpeg")).run()
    assert not app.exception
    if expected.isdigit():
        assert _prediction(app) == expected
    else:
        assert expected in _texts(app) and not app.metric


def test_inside_shows_the_digit_drawn_on_try_it(open_page):
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    app.switch_page("app_pages/inside.py").run()
    assert not app.exception
    assert app.radio(key="inside_source").value == "The digit from Try it"
    captions = " ".join(caption for image in app.image for caption in image.captions)
    assert "the digit drawn on Try it; small_cnn reads 7" in captions


def test_the_model_choice_follows_the_visitor_and_a_dense_model_has_no_filters(open_page):
    app = open_page("evaluate")
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()
    app.switch_page("app_pages/inside.py").run()
    assert app.sidebar.selectbox(key="model_picker").value == "small_dense"
    assert not app.exception and "has no convolution layer" in _texts(app)


@pytest.mark.parametrize("page", ["evaluate", "try_it", "inside"])  # every page that loads the model
def test_a_damaged_model_is_listed_as_unusable_and_never_offered(open_page, models_dir, page):
    garbage = b"this is not a keras zip file"
    (models_dir / "broken.keras").write_bytes(garbage)
    card = {"sha256": hashlib.sha256(garbage).hexdigest(), "test_accuracy": 0.5, "parameters": 1}
    (models_dir / "broken.json").write_text(json.dumps(card))  # even with a matching card
    app = open_page(page)
    if page == "try_it":
        app.session_state[PAD_KEY] = canvas_value(SEVEN)
        app.run()
    assert not app.exception
    assert "broken" not in app.sidebar.selectbox(key="model_picker").options
    assert "broken.keras" in " ".join(str(caption.value) for caption in app.sidebar.caption)


@pytest.mark.slow
def test_train_runs_a_tiny_job_to_the_end_and_the_model_joins_the_picker(open_page, models_dir, app_workspace):
    app = open_page("train")
    app.selectbox(key="train_preset").set_value("larger_cnn").run()
    app.number_input(key="epochs_larger_cnn").set_value(1)
    app.number_input(key="limit_larger_cnn").set_value(500)
    app.text_input(key="name_larger_cnn").set_value("trained_in_apptest")
    app.button(key="train_start").click().run()
    assert not app.exception and not app.warning
    deadline = time.monotonic() + TRAIN_WAIT_SECONDS
    while not any(word in _texts(app) for word in ("Saved", "failed")) and time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()  # what the page's polling fragment does in a browser
    assert "Saved **trained_in_apptest**" in _texts(app)
    assert (app_workspace.models_dir / "trained_in_apptest.keras").is_file()
    options = app.sidebar.selectbox(key="model_picker").options
    assert any(option.startswith("trained_in_apptest") for option in options)
