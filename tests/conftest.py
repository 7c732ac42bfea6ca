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
    # Both workers import TensorFlow now, as a served app's workers have long done when a class trains:
    # else the first job on a cold worker spends its first seconds importing, and a test that needs two
    # jobs training at once (test_class_jobs) races one worker's import against the other's whole job.
    shared.client().run(exec, "import digitcore; digitcore.import_tensorflow_quietly(); import keras")
    yield shared
    shared.close()


BROWSER_TESTS = "tests/e2e/"
# The README tour serves its own app over the shipped models and needs only a Chromium: it is a unit of
# its own, which either worker can take, so the browser tests' worker (roughly 1,400 of the 1,550 s of
# the last full run, under a heavy load) is not made longer by it.
OWN_SERVER_BROWSER_TESTS = {"tests/e2e/test_readme_tour.py"}
# Modules that read the small model test_inference.small_model_directory trains once per session (on
# disk, under the worker's temporary folder): on one worker, it is trained once.
SMALL_MODEL_MODULES = {f"tests/unit/test_{name}.py" for name in ("predict_cli", "read_cli", "reading")}


@pytest.hookimpl(optionalhook=True)  # a pytest without xdist (-p no:xdist) runs the suite in one process
def pytest_xdist_make_scheduler(config, log):
    """How test.sh's two pytest-xdist workers share the suite (`-n 2 --dist loadfile`): each test module
    runs whole on one worker, so a module's fixtures (a server killed once for three tests, a model
    trained once for a module) are made once. The browser tests under tests/e2e that share the served
    app run on one worker, the first thing it is given, so one served app and one Chromium serve them
    all as in a run without workers, while the other worker runs the modules that keep a core busy
    (training, AppTest); the browser tests mostly wait on the served app and Chromium."""
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist asked for on the command line: xdist's own scheduling
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndBrowserTests(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module.startswith(BROWSER_TESTS) and module not in OWN_SERVER_BROWSER_TESTS:
                return BROWSER_TESTS
            return "small model" if module in SMALL_MODEL_MODULES else module

        def _assign_work_unit(self, node) -> None:
            if BROWSER_TESTS in self.workqueue:  # the longest unit first, or a worker idles at the end
                self.workqueue.move_to_end(BROWSER_TESTS, last=False)
            super()._assign_work_unit(node)

    return ModulesAndBrowserTests(config, log)
