"""Security defaults: XSRF on, small uploads, no model uploads, no tracebacks or paths shown to visitors."""

import re

import pytest

from app_session import PAGES, ROOT, open_app, visible_text

MODEL_SUFFIXES = {"keras", "h5", "hdf5", "zip", "pb", "tflite", "pkl", "pickle", "npz", "onnx", "safetensors"}
# My digits imports a zip of labelled PNGs and a CSV (checked by SampleStore.import_zip, never loaded as a model).
ALLOWED = {"my_digits": {"zip"}}
# A traceback, or an absolute path on this machine, must never reach a visitor's screen.
LEAKS = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|/(?:work|home|tmp|usr)/\S+")


@pytest.fixture
def streamlit_config(monkeypatch):
    """Streamlit's effective options, parsed from the repository's .streamlit/config.toml as `streamlit run` does."""
    from streamlit import config

    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    yield config.get_option
    config.get_config_options(force_reparse=True)


@pytest.mark.parametrize(
    "option, check",
    [
        ("server.enableXsrfProtection", lambda value: value is True),  # forged cross-site uploads are refused
        ("server.maxUploadSize", lambda value: 0 < value <= 10),  # MB: a photo of a digit, not 200 MB
        ("client.showErrorDetails", lambda value: value in ("none", "type", False)),  # never "full" tracebacks
        ("server.enableCORS", lambda value: value is True),  # Streamlit's default, kept
        ("browser.gatherUsageStats", lambda value: value is False),  # nothing leaves the machine
    ],
)
def test_effective_streamlit_config(streamlit_config, option, check):
    assert check(streamlit_config(option)), f"{option} = {streamlit_config(option)!r}"


def _uploader_types(app) -> list[list[str]]:
    """The accepted extensions of every file uploader on the current page (AppTest has no typed accessor)."""
    return [list(element.proto.type) for element in app.get("file_uploader")]


def _every_radio_choice(app):
    """Yield the app after each option of each radio button on its page (uploaders hide behind them)."""
    yield app
    for key in [radio.key for radio in app.radio]:
        for option in app.radio(key=key).options:
            app.radio(key=key).set_value(option).run()
            yield app


@pytest.mark.slow
def test_no_uploader_anywhere_accepts_model_files(models_dir):
    """Every page, in each of its radio modes: uploaders exist only for images, and never for model files."""
    seen = {}
    for page in PAGES:
        for app in _every_radio_choice(open_app(page)):
            assert not app.exception, f"{page}: {app.exception[0].message}"
            for types in _uploader_types(app):
                assert types, f"{page} has an uploader that accepts any file"
                accepted = {suffix.lower().lstrip(".") for suffix in types}
                forbidden = accepted & MODEL_SUFFIXES - ALLOWED.get(page, set())
                assert not forbidden, f"{page} accepts {forbidden}"
                seen[page] = accepted
    assert seen.get("try_it"), "the Try it page's photo uploader was not found, so nothing was checked"
    assert seen.get("my_digits") == {"zip"}, "the My digits import uploader was not found, so nothing was checked"


def _explode(*args, **kwargs):
    raise RuntimeError('disk read failed at /work/secret/models/x.keras\nFile "/usr/lib/x.py", line 3')


@pytest.mark.slow
@pytest.mark.parametrize(
    "page, target",
    [
        ("explore", "digitcore.plots.sample_grid"),  # a plot builder fails
        ("evaluate", "digitcore.evaluation.summary"),  # the metrics fail
        ("try_it", "digitcore.reading.preprocess.to_mnist"),  # preprocessing fails (after a drawing)
        ("inside", "digitcore.explain.layer_summary"),  # the layer table fails
    ],
)
def test_a_failure_inside_a_page_shows_a_friendly_message(models_dir, monkeypatch, page, target):
    """An unexpected exception with a path in its message: the visitor reads a short apology, no
    traceback, no path, and the rest of the app (the sidebar) still works."""
    from app_helpers import PAD_KEY, SEVEN, canvas_value

    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", _explode)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # The pages' data caches live as long as the process: an earlier AppTest that read the same drawing
    # (the cache key is the drawing's digest) would answer without calling the function made to fail
    # here, and this test would pass only when a module that clears them happened to run just before.
    st.cache_data.clear()

    from app_session import APP, RUN_TIMEOUT

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    if page == "try_it":
        app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    if page != "explore":
        app.switch_page(f"app_pages/{page}.py")
        app.run()
    assert not app.exception, app.exception[0].message
    doing = {
        "explore": "showing the dataset",
        "evaluate": "evaluating the model",
        "try_it": "reading your digit",
        "inside": "looking inside the model",
    }[page]
    apology = (
        f"Sorry, something went wrong while {doing}. The details are in the server log; "
        "try another choice or reload the page."
    )
    assert [error.value for error in app.error] == [apology], visible_text(app)
    leaks = LEAKS.findall(visible_text(app))
    assert not leaks, leaks
    assert app.sidebar.selectbox(key="model_picker") is not None
