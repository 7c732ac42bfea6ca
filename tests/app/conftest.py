"""AppTest fixtures: a models folder holding small real models, and the app opened on a page."""

import shutil
from pathlib import Path

import pytest

from app_helpers import train_small_models

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, mnist) -> Path:
    """A small CNN (the default) and a dense network, trained for real in seconds."""
    directory = tmp_path_factory.mktemp("models")
    train_small_models(directory, mnist)
    return directory


@pytest.fixture
def models_dir(trained_models, tmp_path, monkeypatch) -> Path:
    """A private copy of the trained models, which the app reads through DIGITCORE_MODELS_DIR."""
    directory = tmp_path / "models"
    shutil.copytree(trained_models, directory)
    monkeypatch.setenv("DIGITCORE_MODELS_DIR", str(directory))
    return directory


@pytest.fixture
def open_page(models_dir):
    """open_page("evaluate") -> an AppTest that has run the app and switched to app_pages/evaluate.py."""
    from streamlit.testing.v1 import AppTest

    def open_(page: str) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
        app.run()
        if page != "explore":  # the default page
            app.switch_page(f"app_pages/{page}.py")
            app.run()
        return app

    return open_
