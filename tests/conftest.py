"""Shared fixtures: the real MNIST cache (fetched by the test command's set-up), small real models in
a private models folder for the app's tests (AppTest and reliability), private workspaces, and one
embedded training cluster of two workers for the job tests."""

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from digitcore import data, jobs, workspaces

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


TEST_WORKSPACE = "apptest"  # the workspace key AppTest runs of the app use (app_helpers.open_app)


@pytest.fixture(autouse=True)
def workspaces_dir(tmp_path, monkeypatch) -> Path:
    """Every test's workspaces in a folder of its own, never the project's data/workspaces."""
    directory = tmp_path / "workspaces"
    monkeypatch.setenv("DIGITCORE_WORKSPACES_DIR", str(directory))
    return directory


@pytest.fixture
def app_workspace(workspaces_dir) -> workspaces.Workspace:
    """The workspace the AppTest visitor works in."""
    return workspaces.parse(TEST_WORKSPACE, workspaces_dir)


@pytest.fixture(scope="session")
def cluster():
    """An embedded Dask cluster of two workers, shared by the job tests of a session (it starts in
    seconds, and each worker imports TensorFlow once for every job it runs)."""
    shared = jobs.Cluster(workers=2)
    yield shared
    shared.close()
