"""AppTest fixtures: a models folder holding small real models, and the app opened on a page."""

import shutil
from pathlib import Path

import pytest

from digitcore import training
from digitcore.architectures import get_preset

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, mnist) -> Path:
    """Two real models trained in seconds: a small CNN (about 96 %, the default) and a dense one."""
    directory = tmp_path_factory.mktemp("models")
    small_cnn = get_preset("keras_basic")
    training.train_and_save(small_cnn, recipe=small_cnn.recipe.with_overrides(epochs=2), limit=12000,
                            name="small_cnn", make_default=True, models_directory=directory, mnist=mnist)
    dense = get_preset("dense_baseline")
    training.train_and_save(dense, recipe=dense.recipe.with_overrides(epochs=1), limit=3000,
                            name="small_dense", models_directory=directory, mnist=mnist)
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
    """open_page("evaluate") -> an AppTest that has run the app and switched to pages/evaluate.py."""
    from streamlit.testing.v1 import AppTest

    def open_(page: str) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
        app.run()
        if page != "explore":  # the default page
            app.switch_page(f"pages/{page}.py")
            app.run()
        return app

    return open_
