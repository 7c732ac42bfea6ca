"""An ensemble in the model picker: Evaluate scores it, Try it reads a drawing with it, Inside names its
members, My digits points to a member for fine-tuning (AppTest, with an ensemble of the two small real models)."""

import re

import pytest

from app_helpers import PAD_KEY, SEVEN, canvas_value, visible_texts
from digitcore import ensemble, evaluation, registry


@pytest.fixture
def with_ensemble(models_dir, mnist):
    ensemble.build_and_save(["small_cnn", "small_dense"], "pair", directory=models_dir, mnist=mnist)
    return models_dir


def _metric(app, label: str) -> str:
    return next(metric.value for metric in app.metric if metric.label == label)


def test_evaluate_scores_the_ensemble_on_the_test_digits(with_ensemble, open_page, mnist):
    app = open_page("evaluate")
    labels = app.sidebar.selectbox(key="model_picker").options
    assert any(label.startswith("pair · ") and label.endswith(" %") for label in labels), labels
    app.sidebar.selectbox(key="model_picker").set_value("pair").run()
    assert not app.exception
    assert any("An ensemble of 2: small_cnn, small_dense." in caption.value for caption in app.sidebar.caption)
    model = registry.load(with_ensemble / "pair.keras")
    expected = evaluation.accuracy(mnist.y_test, evaluation.predict_probabilities(model, mnist.x_test).argmax(1))
    assert _metric(app, "Test accuracy") == f"{100 * expected:.2f} %"


def test_the_model_picker_shows_name_and_accuracy_and_says_the_rest_under_it(with_ensemble, open_page):
    """Issue 28: "digitnet_ensemble · 99.74 % · ensemble of 4 · default" was cut in the sidebar's box."""
    app = open_page("try_it")
    options = app.sidebar.selectbox(key="model_picker").options
    assert len(options) == 3 and all(re.fullmatch(r"[\w.-]+ · \d{1,3}\.\d\d %", o) for o in options)
    captions = [caption.value for caption in app.sidebar.caption]
    assert "The default model. The accuracy is on the 10,000 MNIST test digits." in captions  # small_cnn


def test_try_it_reads_a_drawing_with_the_ensemble_and_inside_names_its_members(with_ensemble, open_page):
    app = open_page("try_it")
    app.sidebar.selectbox(key="model_picker").set_value("pair").run()
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    assert not app.exception and _metric(app, "Prediction") == "7"
    app.switch_page("app_pages/inside.py").run()
    assert not app.exception
    assert "pair averages the probabilities of 2 models (small_cnn, small_dense)" in visible_texts(app)


def test_my_digits_offers_no_fine_tune_of_an_ensemble_and_names_its_members(
    with_ensemble, open_page, mnist, app_workspace
):
    from digitcore import samples

    store = samples.SampleStore(app_workspace.samples_path)
    for index in range(3):
        store.add(mnist.x_test[index], int(mnist.y_test[index]))
    app = open_page("my_digits")
    assert [button for button in app.button if button.key == "own_finetune"]  # offered for a single model
    app.sidebar.selectbox(key="model_picker").set_value("pair").run()
    assert not app.exception
    assert not [button for button in app.button if button.key == "own_finetune"]
    assert "**pair** averages small_cnn, small_dense: pick one of them" in visible_texts(app)
