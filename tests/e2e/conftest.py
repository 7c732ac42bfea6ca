"""Browser fixtures: the app served by `streamlit run` on a free port, and Debian's Chromium."""

import os
import shutil
from pathlib import Path

import pytest
from e2e_server import served_app

from e2e_paths import ARTEFACTS, E2E_WORKSPACE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def e2e_models(tmp_path_factory, request) -> Path:
    """A copy of the session's small models (trained_models in tests/conftest.py: trained once for the
    AppTest, reliability and browser tests alike, as the served app only reads them and what visitors
    train goes to their workspaces); or a copy of E2E_MODELS_DIR (the shipped models, for the README's
    screenshots)."""
    directory = tmp_path_factory.mktemp("e2e") / "models"
    source = os.environ.get("E2E_MODELS_DIR") or request.getfixturevalue("trained_models")
    shutil.copytree(source, directory, ignore=shutil.ignore_patterns(".tmp-*"))
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
    """The app served over the tests' small models; what visitors save goes to throwaway workspaces."""
    with served_app(e2e_models, e2e_workspaces) as url:
        yield url


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
