"""Reliability fixtures: small real models, the app in AppTest, and helpers shared with tests/app."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "app"))  # the digit and model makers shared with AppTest
from app_helpers import train_small_models  # noqa: E402

APP = ROOT / "streamlit_app.py"
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST
PAGES = ["explore", "train", "evaluate", "try_it", "inside"]


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, mnist) -> Path:
    """A small CNN (the default) and a dense network, trained for real in seconds."""
    directory = tmp_path_factory.mktemp("reliability-models")
    train_small_models(directory, mnist)
    return directory


@pytest.fixture
def models_dir(trained_models, tmp_path, monkeypatch) -> Path:
    """A private copy of the trained models, which the app reads through DIGITCORE_MODELS_DIR."""
    directory = tmp_path / "models"
    shutil.copytree(trained_models, directory)
    monkeypatch.setenv("DIGITCORE_MODELS_DIR", str(directory))
    return directory


def open_app(page: str):
    """An AppTest that has run the app and switched to app_pages/<page>.py."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    app.run()
    if page != "explore":  # the default page
        app.switch_page(f"app_pages/{page}.py")
        app.run()
    return app


def visible_text(app) -> str:
    """Every message, caption, markdown and exception text the visitor can read."""
    kinds = ("title", "header", "subheader", "info", "warning", "error", "success", "caption", "markdown",
             "exception", "text", "code")
    return "\n".join(str(getattr(element, "value", "")) + " " + str(getattr(element, "message", ""))
                     for kind in kinds for element in getattr(app, kind))
