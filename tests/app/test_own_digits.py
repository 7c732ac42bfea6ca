"""Your own digits in AppTest: save from Try it, list and delete, export and import, evaluate on
them, robustness probes, barred sevens in the recipe, and a tiny fine-tune job."""

import io
import json
import time
import zipfile

import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from app_helpers import PAD_KEY, SEVEN, canvas_value
from digitcore import evaluation, probes, registry, samples

FINETUNE_WAIT_SECONDS = 300  # a ceiling for the tiny job, never an assertion about speed


@pytest.fixture
def store(tmp_path, monkeypatch) -> samples.SampleStore:
    """An empty sample store of this test, which the app opens through DIGITCORE_SAMPLES_DB."""
    path = tmp_path / "samples.sqlite3"
    monkeypatch.setenv("DIGITCORE_SAMPLES_DB", str(path))
    return samples.SampleStore(path)


def _fill(store: samples.SampleStore, mnist, count: int) -> list[int]:
    """Store the first `count` MNIST test digits as if drawn, with their true labels."""
    return [store.add(mnist.x_test[i], int(mnist.y_test[i]), source="canvas", predicted=int(mnist.y_test[i]),
                      confidence=0.9, model="small_cnn") for i in range(count)]


def _texts(app) -> str:
    return " ".join(str(element.value) for kind in ("info", "warning", "error", "success", "caption", "markdown")
                    for element in getattr(app, kind))


def _metric(app, label: str) -> str:
    return next(metric.value for metric in app.metric if metric.label == label)


def test_a_drawn_seven_saved_with_a_corrected_label_lands_in_the_store(open_page, store):
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    predicted = int(next(metric.value for metric in app.metric if metric.label == "Prediction"))
    corrected = (predicted + 1) % 10  # pretend the model was wrong
    app.selectbox(key="teach_label").set_value(corrected).run()
    app.button(key="teach_save").click().run()
    assert not app.exception
    (saved,) = store.list(with_originals=True)
    assert (saved.label, saved.source, saved.predicted, saved.model) == (corrected, "canvas", predicted, "small_cnn")
    assert 0.0 < saved.confidence <= 1.0 and saved.input.max() > 200  # white ink of the preprocessed digit
    assert saved.original_png.startswith(b"\x89PNG")
    assert f"Saved as a **{corrected}**" in _texts(app)
    assert app.selectbox(key="teach_label").value is None  # ready for the next digit


def test_my_digits_lists_the_examples_and_deletes_one(open_page, store, mnist):
    first, second = _fill(store, mnist, 2)
    app = open_page("my_digits")
    assert not app.exception and app.title[0].value == "My digits"
    assert f"**{mnist.y_test[0]}** · canvas · read as {mnist.y_test[0]} (90 %)" in _texts(app)
    app.button(key=f"delete_{first}").click().run()
    assert [sample.id for sample in store.list()] == [second]
    assert f"Deleted example #{first}." in _texts(app)
    with pytest.raises(KeyError):
        app.button(key=f"delete_{first}")


def test_export_then_import_round_trips_through_the_page(open_page, store, mnist, tmp_path, monkeypatch):
    _fill(store, mnist, 3)
    media = MemoryMediaFileStorage("/mock/media")  # keeps the download's bytes after the run ends
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", lambda endpoint: media)
    app = open_page("my_digits")
    url = app.get("download_button")[0].proto.url
    exported = media.get_file(url.rsplit("/", 1)[-1]).content
    monkeypatch.setenv("DIGITCORE_SAMPLES_DB", str(tmp_path / "another.sqlite3"))  # a classmate's empty store
    app = open_page("my_digits")
    assert "No examples yet" in _texts(app)
    app.get("file_uploader")[0].set_value(("my_digits.zip", exported, "application/zip")).run()
    app.button(key="own_import").click().run()
    assert not app.exception and "Imported 3 example(s)." in _texts(app)
    imported = samples.SampleStore(tmp_path / "another.sqlite3").arrays()
    np.testing.assert_array_equal(imported[0], store.arrays()[0])
    np.testing.assert_array_equal(imported[1], store.arrays()[1])


@pytest.mark.parametrize(
    "members",
    [
        {"samples.csv": "label,source\n", "../escape.png": b"x"},  # a path traversal name
        {"samples.csv": "label,source,created_at,predicted,confidence,model,input_file,original_file\n"
                        "7,canvas,2026-01-01,,,,inputs/000001.png,\n"},  # a row whose file is missing
        {"notes.txt": "no samples.csv at all"},  # not an export
    ],
)
def test_a_bad_zip_shows_the_reason_and_writes_nothing(open_page, store, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    app = open_page("my_digits")
    app.get("file_uploader")[0].set_value(("hostile.zip", buffer.getvalue(), "application/zip")).run()
    app.button(key="own_import").click().run()
    assert not app.exception
    assert any(error.value.startswith("Nothing was imported: ") for error in app.error)
    assert store.count() == 0


def test_evaluate_on_my_digits_shows_the_accuracy_beside_the_mnist_one(open_page, store, mnist, models_dir):
    _fill(store, mnist, 30)
    app = open_page("my_digits")
    model = registry.load(models_dir / "small_cnn.keras")
    expected = evaluation.accuracy(mnist.y_test[:30], evaluation.predict_probabilities(model, mnist.x_test[:30]).argmax(1))
    card = json.loads((models_dir / "small_cnn.json").read_text())
    assert _metric(app, "Accuracy on your digits") == f"{100 * expected:.1f} %"
    assert _metric(app, "MNIST test accuracy") == f"{100 * card['test_accuracy']:.2f} %"
    assert app.get("plotly_chart")  # the confusion matrix


def test_evaluate_shows_the_robustness_probes(open_page):
    app = open_page("evaluate")
    assert not app.exception
    table = next(frame.value for frame in app.dataframe if "n" in frame.value.columns and "probe" in frame.value.columns)
    assert table["probe"].tolist()[1:] == [title for title, _ in probes.PROBES.values()]
    accuracies = [float(text.removesuffix(" %")) for text in table["accuracy"]]  # "97.3 %": never cut to "0.9"
    assert all(0 <= accuracy <= 100 for accuracy in accuracies) and table["n"].iloc[0] == "1,000"
    app.selectbox(key="probe_examples").set_value("barred_sevens").run()
    assert not app.exception


def test_train_passes_barred_sevens_into_the_recipe(open_page):
    app = open_page("train")
    app.slider(key="barred_digitnet").set_value(0.5).run()
    assert not app.exception and app.slider(key="barred_digitnet").value == 0.5


@pytest.mark.slow
def test_a_tiny_finetune_job_runs_to_the_end_and_its_model_names_its_parent(open_page, store, mnist, models_dir):
    _fill(store, mnist, 20)
    app = open_page("my_digits")
    app.number_input(key="own_epochs").set_value(1)
    app.text_input(key="own_name_small_cnn").set_value("finetuned_in_apptest")
    app.button(key="own_finetune").click().run()
    assert not app.exception and not app.warning
    deadline = time.monotonic() + FINETUNE_WAIT_SECONDS
    while not any(word in _texts(app) for word in ("Saved **finetuned", "failed")) and time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()  # what the page's polling fragment does in a browser
    assert "Saved **finetuned_in_apptest**" in _texts(app)
    before_after = next(frame.value for frame in app.dataframe if "before" in frame.value.columns)
    assert before_after[""].tolist() == ["MNIST test accuracy", "accuracy on your digits"]
    card = json.loads((models_dir / "finetuned_in_apptest.json").read_text())
    assert card["parent"] == "small_cnn" and card["test_accuracy"] == before_after["after"].iloc[0]
    options = app.sidebar.selectbox(key="model_picker").options
    assert any(option.startswith("finetuned_in_apptest") for option in options)
    app.switch_page("app_pages/train.py").run()  # the Train page shows the same (shared) job
    assert not app.exception and "finetuned_in_apptest** (fine-tune of small_cnn on your digits) · finished" in _texts(app)
