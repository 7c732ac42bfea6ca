"""Browser fixtures: the app served by `streamlit run` on a free port, and Debian's Chromium."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from app_helpers import train_small_models  # tests/app, on the path from tests/conftest.py
from app_server import free_port, healthy, streamlit_command
from e2e_paths import ARTEFACTS, E2E_WORKSPACE, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 90  # a ceiling for the health check, never an assertion about speed


@pytest.fixture(scope="session")
def e2e_models(tmp_path_factory, mnist) -> Path:
    """Small models trained here; or a copy of E2E_MODELS_DIR (the shipped models, for the README's screenshots)."""
    directory = tmp_path_factory.mktemp("e2e") / "models"
    if os.environ.get("E2E_MODELS_DIR"):
        shutil.copytree(os.environ["E2E_MODELS_DIR"], directory, ignore=shutil.ignore_patterns(".tmp-*"))
    else:
        directory.mkdir()
        train_small_models(directory, mnist)
    return directory


@pytest.fixture(scope="session")
def e2e_workspaces(e2e_models) -> Path:
    """The throwaway workspaces folder of the served app."""
    return e2e_models.parent / "workspaces"


@pytest.fixture(scope="session")
def samples_db(e2e_workspaces) -> Path:
    """The throwaway samples database the served app writes to for the browser tests' visitor."""
    return e2e_workspaces / E2E_WORKSPACE / "samples.sqlite3"


@pytest.fixture(scope="session")
def e2e_visitor_models(e2e_workspaces) -> Path:
    """Where the browser tests' visitor's trained models are saved."""
    return e2e_workspaces / E2E_WORKSPACE / "models"


@pytest.fixture(scope="session")
def app_url(e2e_models, e2e_workspaces):
    """Start `streamlit run streamlit_app.py` headless on a free port; yield its URL; stop it."""
    ARTEFACTS.mkdir(exist_ok=True)
    port = free_port()
    command = streamlit_command(port)
    # Samples and models the browser tests save go to throwaway workspaces, never the user's own.
    environment = {
        **os.environ,
        "DIGITCORE_MODELS_DIR": str(e2e_models),
        "DIGITCORE_WORKSPACES_DIR": str(e2e_workspaces),
    }
    log = open(ARTEFACTS / "e2e-server.log", "w")
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"The app did not start; see {ARTEFACTS / 'e2e-server.log'}.")
        time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"The browser tests drive Debian's Chromium at {CHROMIUM}; ./test.sh installs it "
            "(apt-get install chromium). Playwright's own browser download is not used."
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)  # lets the page fixture see whether the test failed


@pytest.fixture
def page(browser, request):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # the first visit imports TensorFlow and loads MNIST
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not tab.is_closed():
        tab.screenshot(path=ARTEFACTS / f"failed-{request.node.name}.png", full_page=True)
    context.close()
