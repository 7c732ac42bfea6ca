"""Shared fixtures: the real MNIST cache (fetched by the test command's set-up), and small real
models in a private models folder for the app's tests (AppTest and reliability)."""

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from digitcore import data

sys.path.insert(0, str(Path(__file__).resolve().parent / "app"))  # app_helpers: digits, models, the app
from app_helpers import train_small_models  # noqa: E402


@pytest.fixture(scope="session")
def mnist() -> data.Mnist:
    """The real 70,000 digits as uint8 arrays."""
    return data.load_mnist()


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, mnist) -> Path:
    """A small CNN (the default) and a dense network, trained for real in seconds, once per session."""
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
