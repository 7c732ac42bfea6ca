"""Reliability fixtures: small real models in a private models folder (helpers: app_session.py)."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))  # the digit and model makers shared with AppTest
from app_helpers import train_small_models  # noqa: E402


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
