"""Try it in AppTest: a stroke reruns only what the new drawing needs, the visitor's input survives
leaving the page, and the steps strip and messages say the right thing for each kind of input."""

import base64
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from app_helpers import (
    FOUR,
    LETTER_A,
    PAD_KEY,
    PHOTO_SEVEN,
    SEVEN,
    canvas_value,
    notebook_crop,
    open_app,
    pad_data,
    photo_of_digit,
    seven_with_its_bar_on_a_ruling,
)
from digitcore import explain, plots, registry, samples
from digitcore.reading import preprocess


class Calls:
    """Counts the calls of one core function while the app runs (a spy that still calls through)."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.count = 0
        original = getattr(module, name)

        def spy(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)


def _prediction(app) -> str:
    return next(metric.value for metric in app.metric if metric.label == "Prediction")


def _texts(app) -> str:
    return " ".join(
        str(element.value)
        for kind in ("info", "warning", "error", "caption", "markdown")
        for element in getattr(app, kind)
    )


def test_a_stroke_does_only_the_work_of_the_new_drawing(open_page, monkeypatch):
    listings = Calls(monkeypatch, registry, "list_models")
    readings = Calls(monkeypatch, preprocess, "to_mnist")
    saliencies = Calls(monkeypatch, explain, "saliency")
    # Plotly's property checks cost about 9 ms a figure: a stroke's two figures reuse checked templates
    validations = [
        Calls(monkeypatch, plots, name) for name in ("validated_probability_bars", "validated_saliency_overlay")
    ]
    app = open_page("try_it")
    listings_after_opening = listings.count
    app.session_state[PAD_KEY] = canvas_value(FOUR[:1])  # the first stroke of a 4
    app.run()
    app.session_state[PAD_KEY] = canvas_value(FOUR)  # the second stroke
    app.run()
    assert not app.exception and _prediction(app) == "4"
    assert listings.count == listings_after_opening  # the models folder is not listed again per stroke
    assert (readings.count, saliencies.count) == (2, 2)  # each new drawing read once, its saliency once
    assert all(validation.count <= 1 for validation in validations)  # once per process, not per stroke
    app.radio(key="saliency_method").set_value("gradient").run()  # not a new drawing
    assert readings.count == 2 and saliencies.count == 3  # the drawing is not decoded or read again
    app.selectbox(key="teach_label").set_value(9).run()
    assert (readings.count, saliencies.count) == (2, 3)


def test_the_drawing_is_kept_when_the_visitor_comes_back(open_page):
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    assert _prediction(app) == "7"
    app.switch_page("app_pages/explore.py").run()
    app.switch_page("app_pages/try_it.py").run()  # the pad is mounted afresh, its own state is gone
    assert not app.exception and _prediction(app) == "7"
    assert "Read from the whole drawing: 1 stroke." in _texts(app)


def test_an_uploaded_photo_is_kept_when_the_visitor_comes_back(open_page):
    app = open_page("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value(("seven.jpg", photo_of_digit(PHOTO_SEVEN), "image/jpeg")).run()
    assert _prediction(app) == "7"
    app.switch_page("app_pages/explore.py").run()
    app.switch_page("app_pages/try_it.py").run()
    assert not app.exception and app.radio(key="try_source").value == "Upload a photo"
    assert _prediction(app) == "7"
    assert "seven.jpg" in _texts(app) and "uploaded earlier" in _texts(app)


@pytest.mark.parametrize("upload", [False, True])  # a drawing, and a 28x28 image that is already MNIST-like
def test_the_steps_strip_shows_the_model_input_once(open_page, upload):
    app = open_page("try_it")
    if upload:
        tiny = io.BytesIO()
        Image.open(io.BytesIO(photo_of_digit(PHOTO_SEVEN))).convert("L").resize((28, 28)).save(tiny, format="PNG")
        app.radio(key="try_source").set_value("Upload a photo").run()
        app.get("file_uploader")[0].set_value(("tiny.png", tiny.getvalue(), "image/png")).run()
    else:
        app.session_state[PAD_KEY] = canvas_value(SEVEN)
        app.run()
    captions = [caption for image in app.image for caption in image.captions]
    assert [caption for caption in captions if "model input" in caption.lower()] == [captions[-1]]
    assert len({caption.lower().replace("×", "x") for caption in captions}) == len(captions)


def test_the_steps_strip_travels_with_the_page_as_png_data_urls(open_page):
    """No media file and no request per step image: each is a PNG inside its own URL, the last one
    the model input at 4x."""
    app = open_page("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value(("seven.jpg", photo_of_digit(PHOTO_SEVEN), "image/jpeg")).run()
    (strip,) = [image for image in app.image if any("model input" in caption for caption in image.captions)]
    prefix = "data:image/png;base64,"
    assert len(strip.value) >= 5 and all(url.startswith(prefix) for url in strip.value)
    model_input = Image.open(io.BytesIO(base64.b64decode(strip.value[-1][len(prefix) :])))
    assert model_input.size == (112, 112) and model_input.mode == "L"


def test_a_blank_photo_says_no_digit_was_found_in_the_picture(open_page):
    app = open_page("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (250, 250, 250)).save(blank, format="JPEG", quality=90)
    app.get("file_uploader")[0].set_value(("blank.jpg", blank.getvalue(), "image/jpeg")).run()
    assert not app.exception
    assert [element.value for element in app.info if "No digit found" in element.value] == [
        "No digit found: the picture is blank or one uniform colour. "
        "Draw or photograph one digit, dark on light or light on dark."
    ]
    assert not any(metric.label == "Prediction" for metric in app.metric)


HASH_SIGN = [[(90, 40), (80, 240)], [(180, 40), (170, 240)], [(40, 100), (240, 100)], [(40, 180), (240, 180)]]


@pytest.mark.parametrize("strokes, doubted", [(LETTER_A, True), (HASH_SIGN, True), (SEVEN, False), (FOUR, False)])
def test_a_drawing_that_is_not_a_digit_is_called_doubtful(open_page, strokes, doubted):
    # The model must answer 0-9 for anything; the page says when the input is not one digit at all,
    # and still shows the model's answer (the guard is a help, not a gate).
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(strokes)
    app.run()
    assert not app.exception and _prediction(app) in "0123456789"
    warnings = [element.value for element in app.warning if "does not look like a single digit" in element.value]
    assert len(warnings) == (1 if doubted else 0)


GUARD_SENTENCE = (
    "This does not look like a single digit (a letter, a symbol, a scribble or several digits?). "
    "The model can only answer 0-9, so its answer is probably meaningless."
)


def _column_of(app, metric_label: str):
    """The innermost column that holds the metric called `metric_label` (columns nest: the last one found)."""
    return [column for column in app.columns if any(metric.label == metric_label for metric in column.metric)][-1]


def test_the_guard_speaks_across_the_reading_before_the_prediction(open_page):
    # Issue 28, item 4: it said "its answer below" under the answer, squeezed beside it in a narrow column.
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(LETTER_A)
    app.run()
    (warning,) = [element for element in app.warning if "single digit" in element.value]
    assert warning.value.startswith(GUARD_SENTENCE + " Several digits? Choose **A number** under Read.")
    assert "below" not in warning.value and "above" not in warning.value
    beside = _column_of(app, "Prediction")
    assert not any("single digit" in element.value for element in beside.warning)  # not squeezed beside it
    shown = [element for element in app.main if element.type in ("alert", "warning", "metric")]
    assert "single digit" in str(shown[0].value) and shown[1].label == "Prediction"  # first the doubt, then the answer


@pytest.fixture
def store(app_workspace) -> samples.SampleStore:
    """The AppTest visitor's own sample store (empty at the start of each test)."""
    app_workspace.samples_path.parent.mkdir(parents=True, exist_ok=True)
    return samples.SampleStore(app_workspace.samples_path)


def test_a_letter_is_saved_only_under_a_digit_the_visitor_picks(open_page, store):
    # Issue 28, item 4: an "A" was saved as whatever the model answered, without a question.
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(LETTER_A)
    app.run()
    assert app.selectbox(key="teach_label").label.startswith("Which digit is it?")
    assert app.button(key="teach_save").disabled  # until the question is answered
    assert not app.exception and store.count() == 0
    app.selectbox(key="teach_label").set_value(4).run()
    assert not app.button(key="teach_save").disabled
    app.button(key="teach_save").click().run()
    assert [(sample.label, sample.source) for sample in store.list()] == [(4, "canvas")]
    assert "Saved as a **4**" in _texts(app) + " ".join(element.value for element in app.success)


def test_the_pen_width_is_kept_when_the_visitor_comes_back(open_page):
    # Issue 28, item 5: the pen went back to 20 after a visit to another page (the drawing was kept).
    app = open_page("try_it")
    assert pad_data(app)["strokeWidth"] == 20
    value = canvas_value(SEVEN)
    value["pen"] = 34  # the visitor set the pad's pen slider to 34
    app.session_state[PAD_KEY] = value
    app.run()
    app.switch_page("app_pages/explore.py").run()
    app.switch_page("app_pages/try_it.py").run()  # the pad is mounted afresh
    assert not app.exception
    assert pad_data(app)["strokeWidth"] == 34
    assert len(pad_data(app)["restore"]["strokes"]) == 1  # with the drawing, as before


def test_a_kept_photo_can_be_removed(open_page):
    # Issue 28, item 6: a photo kept from an earlier visit could only be replaced.
    app = open_page("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value(("seven.jpg", photo_of_digit(PHOTO_SEVEN), "image/jpeg")).run()
    app.switch_page("app_pages/explore.py").run()
    app.switch_page("app_pages/try_it.py").run()
    assert _prediction(app) == "7"
    app.button(key="remove_photo").click().run()
    assert not app.exception
    assert not any(metric.label == "Prediction" for metric in app.metric)
    assert "seven.jpg" not in _texts(app)
    assert [element.value for element in app.info] == ["Upload a photo of a digit to see what the model makes of it."]


@pytest.mark.parametrize(
    "source, reading, hint",
    [
        ("Draw", "One digit", "Draw a digit on the canvas to see what the model makes of it."),
        ("Upload a photo", "One digit", "Upload a photo of a digit to see what the model makes of it."),
        ("Draw", "A number", "Write a number on the pad to see what the model makes of it."),
        ("Upload a photo", "A number", "Upload a photo of a number to see what the model makes of it."),
    ],
)
def test_the_first_hint_speaks_of_the_input_chosen(open_page, source, reading, hint):
    # Issue 28, item 6: upload mode said "Draw a digit on the canvas or upload a photo".
    app = open_page("try_it")
    app.radio(key="try_source").set_value(source).run()
    app.radio(key="try_reading").set_value(reading).run()
    assert not app.exception
    assert [element.value for element in app.info] == [hint]


def test_a_reload_keeps_the_model_the_input_and_the_reading(open_page):
    # Issue 28, item 7: a reload lost the model choice (and every other choice).
    app = open_page("try_it")
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.radio(key="try_reading").set_value("A number").run()
    url = dict(app.query_params)
    assert url.pop("ws")  # the visitor's workspace, and beside it what Try it keeps
    assert url == {"model": "small_dense", "input": "upload", "read": "number"}

    reloaded = open_page("try_it", url)  # a new session on the same URL
    assert not reloaded.exception
    assert reloaded.sidebar.selectbox(key="model_picker").value == "small_dense"
    assert reloaded.radio(key="try_source").value == "Upload a photo"
    assert reloaded.radio(key="try_reading").value == "A number"


@pytest.fixture
def default_model_only(tmp_path, monkeypatch):
    """A models folder holding only the shipped default model (its file and card), for what the
    small test models cannot read."""
    directory = tmp_path / "shipped"
    directory.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "models"
    for name in ("digitnet.keras", "digitnet.json"):
        shutil.copy(shipped / name, directory / name)
    monkeypatch.setenv("DIGITCORE_MODELS_DIR", str(directory))
    return directory


def test_a_small_notebook_crop_is_read_and_its_steps_show_the_page_stage(default_model_only):
    """The one-digit preparation erases this 7's bar with the ruling it lies on (a 1); the page
    stage's second look reads the 7, and the steps strip shows what the page stage kept and dropped."""
    crop = io.BytesIO()
    Image.fromarray(notebook_crop(seven_with_its_bar_on_a_ruling, 0)).save(crop, format="PNG")
    app = open_app("try_it")
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value(("notebook.png", crop.getvalue(), "image/png")).run()
    assert not app.exception
    assert _prediction(app) == "7"
    captions = [caption for image in app.image for caption in image.captions]
    assert any("Dropped as lines" in caption for caption in captions)
    assert any("Kept as the digits' ink" in caption for caption in captions)
