"""A models folder holding random bytes, a zip with a foreign config, a wrong-shape model and a
truncated file beside good models: every page still works and the bad files are never used."""

import io
import json
import os
import zipfile

import pytest

from app_session import PAGES, open_app, visible_text
from registry_helpers import card_for
from test_security import LEAKS


def random_bytes(good: bytes) -> bytes:
    return os.urandom(4096)


def truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def foreign_config(good: bytes) -> bytes:
    """The good model's zip with config.json replaced by a class Keras does not know."""
    source, buffer = zipfile.ZipFile(io.BytesIO(good)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "config.json":
                content = json.dumps(
                    {"module": "os", "class_name": "system", "config": {"command": "true"}, "registered_name": "system"}
                ).encode()
            target.writestr(item, content)
    return buffer.getvalue()


def wrong_shape(good: bytes) -> bytes:
    """A real, loadable Keras model that reads 32x32 RGB images."""
    import keras

    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    path = "/tmp/reliability-wrong-shape.keras"
    model.save(path)
    with open(path, "rb") as file:
        return file.read()


# name -> (maker, card): "none" = no card, "matching" = a card with the file's own checksum (as a
# hand-copied or foreign model would have), "stale" = the good model's card (checksum mismatch).
BAD_FILES = {
    "junk": (random_bytes, "none"),  # random bytes named .keras, nothing else
    "junk_carded": (random_bytes, "matching"),  # random bytes with a card that vouches for them
    "half": (truncated, "stale"),  # a model cut short by a full disk
    "foreign": (foreign_config, "matching"),  # a zip whose config names os.system
    "wide": (wrong_shape, "matching"),  # a working model of the wrong input shape
}


@pytest.fixture
def bad_models_dir(models_dir):
    """The good small models plus each BAD_FILES entry."""
    good = (models_dir / "small_dense.keras").read_bytes()
    good_card = json.loads((models_dir / "small_dense.json").read_text())
    for name, (maker, card) in BAD_FILES.items():
        content = maker(good)
        (models_dir / f"{name}.keras").write_bytes(content)
        if card != "none":
            own = card_for(good_card, name, content if card == "matching" else good)
            (models_dir / f"{name}.json").write_text(json.dumps(own))
    return models_dir


def offered(app) -> list[str]:
    """The model names in the sidebar picker (its options are labels: "name · 96.59 %")."""
    return [option.split(" · ")[0] for option in app.sidebar.selectbox(key="model_picker").options]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)  # each of the six pages
def test_every_page_works_beside_bad_model_files(bad_models_dir, page):
    app = open_app(page)
    assert not app.exception, app.exception[0].message
    assert app.sidebar.selectbox(key="model_picker").value == "small_cnn"  # the good default is still chosen
    assert not LEAKS.findall(visible_text(app))


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in BAD_FILES])
def test_a_bad_file_is_never_offered(bad_models_dir, name):
    """The sidebar's model picker offers only the good models."""
    app = open_app("try_it")
    assert name not in offered(app)


@pytest.mark.slow
def test_bad_files_are_listed_as_unusable_with_a_reason(bad_models_dir):
    app = open_app("evaluate")
    text = visible_text(app) + " ".join(str(expander.label) for expander in app.get("expandable"))
    missing = [name for name in BAD_FILES if name not in text]
    assert not missing, f"not shown as unusable: {missing}"


@pytest.mark.slow
def test_a_chosen_model_damaged_on_disk_gives_a_clear_message(models_dir):
    """The visitor chose a model; then its file is damaged (a disk error, a bad copy) while the app
    runs: the sidebar says that model cannot be used any more and the default takes over; the
    drawing is still classified; nothing crashes, no path or trace shows."""
    from app_helpers import PAD_KEY, SEVEN, canvas_value

    app = open_app("try_it")
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()
    good = (models_dir / "small_dense.keras").read_bytes()
    (models_dir / "small_dense.keras").write_bytes(truncated(good))
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    assert not app.exception, app.exception[0].message
    text = visible_text(app)
    assert any(
        "small_dense" in warning.value and "cannot be used" in warning.value for warning in app.sidebar.warning
    ), text
    assert app.sidebar.selectbox(key="model_picker").value == "small_cnn"
    assert [metric.value for metric in app.metric if metric.label == "Prediction"] == ["7"]
    assert not LEAKS.findall(text), LEAKS.findall(text)
