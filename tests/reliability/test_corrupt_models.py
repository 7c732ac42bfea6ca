"""A models folder holding random bytes, a zip with a foreign config, a wrong-shape model and a
truncated file beside good models: every page still works and the bad files are never used."""

import io
import json
import os
import zipfile

import pytest

from conftest import PAGES, open_app, visible_text
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
                content = json.dumps({"module": "os", "class_name": "system", "config": {"command": "true"},
                                      "registered_name": "system"}).encode()
            target.writestr(item, content)
    return buffer.getvalue()


def wrong_shape(good: bytes) -> bytes:
    """A real, loadable Keras model that reads 32x32 RGB images."""
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
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
# Files whose card matches pass the cheap checks of registry.list_models; only loading finds them out.
CARDED = [name for name, (_, card) in BAD_FILES.items() if card == "matching"]

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
    """The model names in the sidebar picker (its options are labels: "name · 96.59 % · default")."""
    return [option.split(" · ")[0] for option in app.sidebar.selectbox(key="model_picker").options]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)  # each of the five pages
def test_every_page_works_beside_bad_model_files(bad_models_dir, page):
    app = open_app(page)
    assert not app.exception, app.exception[0].message
    assert app.sidebar.selectbox(key="model_picker").value == "small_cnn"  # the good default is still chosen
    assert not LEAKS.findall(visible_text(app))


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    name
    for name in BAD_FILES])
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
@pytest.mark.parametrize("name", [
    name for name in CARDED])
def test_choosing_a_bad_file_gives_a_clear_message(bad_models_dir, name):
    """If a bad file is offered and chosen, Try it says the model cannot be used; nothing crashes."""
    from app_helpers import SEVEN, canvas_value

    app = open_app("try_it")
    picker = app.sidebar.selectbox(key="model_picker")
    if name not in offered(app):
        pytest.skip(f"{name} is not offered (the deep check is in place)")
    picker.set_value(name).run()
    app.session_state[f"canvas_{app.session_state['canvas_round']}"] = canvas_value(SEVEN)
    app.run()
    assert not app.exception, app.exception[0].message
    assert any("cannot be used" in error.value for error in app.error), visible_text(app)
    assert not [metric for metric in app.metric if metric.label == "Prediction"]
    assert not LEAKS.findall(visible_text(app)), LEAKS.findall(visible_text(app))

