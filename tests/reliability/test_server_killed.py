"""SIGKILL the app's server during a training job and during the job's model save, restart it:
models/ holds only complete, loadable models, temporaries do not pile up, the job is shown as interrupted."""

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from app_server import free_port, healthy, streamlit_command  # tests/app, on the path from tests/conftest.py
from app_session import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 120_000  # a ceiling for each wait, never an assertion about speed
JOB = "killed_job"
WORKSPACE = "killed-visitor"  # the visitor's workspace key, in every URL (as a bookmark)
ORPHAN_GRACE_SECONDS = 20  # how long a training process may outlive its killed server


class Server:
    """`streamlit run` in its own process group (so a whole-machine style kill can take its children too)."""

    def __init__(self, models: Path, log: Path) -> None:
        """Serve the app over the shipped `models` and the workspaces folder beside them."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = streamlit_command(self.port)
        self.log = open(log, "a")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "DIGITCORE_MODELS_DIR": str(models),
                "DIGITCORE_WORKSPACES_DIR": str(models.parent / "workspaces"),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The app did not start; see {log}.")
            time.sleep(0.2)

    def descendants(self) -> list[int]:
        """Every process the server started (the cluster's workers, multiprocessing's helpers)."""
        found, frontier = [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    children = [int(child) for child in (task / "children").read_text().split()]
                except OSError:
                    continue
                found += children
                frontier += children
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _in_own_thread(scenario, *args):
    """Playwright's sync API cannot start in a thread where another sync session is open (the e2e
    tests' session-wide browser, when the whole suite runs): each scenario gets a thread of its own."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(scenario, *args).result()


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(gone)"


def _kill_all(pids: list[int]) -> None:
    """Clean up processes this test's server started and left behind (by pid, never by name)."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _settle(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached(timeout=WAIT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT_MS)


def _visitor_models(models: Path) -> Path:
    """Where the visitor's job saves its model: their workspace's models folder."""
    return models.parent / "workspaces" / WORKSPACE / "models"


LARGER_CNN = ("Larger CNN (9 layers)", "59,933 parameters")
# The largest preset's file (4.8 MB): the app's side of its save (write, check, rename) lasts long
# enough for a poll to see it start, now that the model arrives as bytes from a worker.
LARGEST = ("Conv-Conv-Pool-Dropout CNN", "1,199,882 parameters")


def _start_job(browser, url: str, epochs: int, limit: int, architecture: tuple[str, str] = LARGER_CNN):
    """On the Train page: a job of `architecture` (its option and parameter count) for `epochs` over
    `limit` digits, saved as JOB."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.goto(f"{url}/train?ws={WORKSPACE}", timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=WAIT_MS)
    _settle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
    page.get_by_role("option", name=architecture[0]).click()
    expect(page.get_by_text(architecture[1])).to_be_visible(timeout=WAIT_MS)
    _settle(page)
    for label, value in {
        "Epochs": str(epochs),
        "Training digits (of 60,000)": str(limit),
        "Save as": JOB,
    }.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        _settle(page)
    page.get_by_role("button", name=re.compile("Train$")).click()
    return page


def _check_models_after_restart(models: Path, browser, server: Server) -> str:
    """Every model file is complete and loadable; returns the Train page's text after the restart."""
    from playwright.sync_api import expect

    from digitcore import registry

    entries = registry.list_models(models, deep=True)
    assert [(entry.name, entry.problem) for entry in entries if entry.problem] == []
    assert {"small_cnn", "small_dense"} <= {entry.name for entry in entries}
    visitors = registry.list_models(_visitor_models(models), deep=True)
    assert [(entry.name, entry.problem) for entry in visitors if entry.problem] == []
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.goto(f"{server.url}/train?ws={WORKSPACE}", timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=WAIT_MS)
    _settle(page)
    assert page.get_by_test_id("stException").count() == 0
    text = page.locator("[data-testid='stMain']").inner_text()
    page.close()
    return text


@pytest.fixture(scope="module")
def killed_during_training(trained_models, tmp_path_factory):
    return _in_own_thread(_killed_during_training, trained_models, tmp_path_factory)


def _killed_during_training(trained_models, tmp_path_factory):
    """Kill only the server mid-epoch (as the OOM killer would), wait, restart it; what was seen.

    One kill serves the three tests below (each kill and restart costs about a minute).
    """
    from playwright.sync_api import expect, sync_playwright

    work = tmp_path_factory.mktemp("killed-training")
    models = work / "models"
    shutil.copytree(trained_models, models)
    outcome = {}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        server = Server(models, work / "server.log")
        children: list[int] = []
        try:
            page = _start_job(
                chromium, server.url, epochs=30, limit=60000
            )  # minutes of work: it cannot finish in the grace time
            expect(page.get_by_text(re.compile(r"^Epoch [1-9]\d* of 30"))).to_be_visible(timeout=WAIT_MS)
            children = server.descendants()
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            page.close()
            deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
            while time.monotonic() < deadline and any(_alive(pid) for pid in children):
                time.sleep(0.5)
            outcome["children"] = children
            # multiprocessing's resource tracker (no training, no files) is not a job process
            outcome["orphans"] = [
                (pid, _command_line(pid))
                for pid in children
                if _alive(pid) and "resource_tracker" not in _command_line(pid)
            ]
            _kill_all(children)  # stop them either way, before the restart looks at the folder
            restarted = Server(models, work / "server.log")
            try:
                outcome["train_page"] = _check_models_after_restart(models, chromium, restarted)
            finally:
                restarted.stop()
            outcome["models"] = models
        finally:
            _kill_all(children)
            server.stop()
            chromium.close()
    return outcome


def test_after_a_kill_during_training_the_models_folder_is_sound(killed_during_training):
    """Only complete, loadable models (checked in _check_models_after_restart); no half-trained file."""
    models = _visitor_models(killed_during_training["models"])
    assert killed_during_training["children"], "the training process was not found"
    assert not (models / f"{JOB}.keras").exists()  # 30 epochs over 60,000 digits cannot have finished
    assert not list(models.glob(".tmp-*"))


def test_the_training_process_does_not_outlive_a_killed_server(killed_during_training):
    assert killed_during_training["orphans"] == [], "the training process kept running as an orphan"


def test_the_interrupted_job_is_shown_as_interrupted(killed_during_training):
    text = killed_during_training["train_page"]
    assert re.search(rf"{JOB}.*interrupted", text, re.IGNORECASE | re.DOTALL), text[:1500]


def _wait_for_save(models: Path, server: Server, timeout: float = 600) -> None:
    """Poll (every millisecond) until the job's save has created its temporary model file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(models.glob(f".tmp-{JOB}-*.keras")) or list(models.glob(f".tmp-{JOB}.card.json")):
            return
        if (models / f"{JOB}.keras").exists():
            raise AssertionError("the save finished before the test saw it start")
        time.sleep(0.001)
    raise AssertionError("the job never started saving")


@pytest.fixture(scope="module")
def killed_during_save(trained_models, tmp_path_factory):
    return _in_own_thread(_killed_during_save, trained_models, tmp_path_factory)


def _killed_during_save(trained_models, tmp_path_factory):
    """Kill the server and its training process (the whole process group, like a power cut or a
    container stop) while the job's model file is being written, age the leftovers past
    registry.STALE_TEMPORARY_SECONDS, restart; what was seen."""
    from playwright.sync_api import sync_playwright

    from digitcore import registry

    work = tmp_path_factory.mktemp("killed-save")
    models = work / "models"
    shutil.copytree(trained_models, models)
    outcome = {"models": models}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        server = Server(models, work / "server.log")
        try:
            page = _start_job(chromium, server.url, epochs=1, limit=1500, architecture=LARGEST)
            _wait_for_save(_visitor_models(models), server)
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
            page.close()
        finally:
            server.stop()
        outcome["leftovers"] = sorted(path.name for path in _visitor_models(models).glob(".tmp-*"))
        stale = time.time() - registry.STALE_TEMPORARY_SECONDS - 60  # time passes
        for path in _visitor_models(models).glob(".tmp-*"):
            os.utime(path, (stale, stale))
        restarted = Server(models, work / "server.log")
        try:
            outcome["train_page"] = _check_models_after_restart(models, chromium, restarted)
        finally:
            restarted.stop()
            chromium.close()
    outcome["remaining"] = sorted(path.name for path in _visitor_models(models).glob(".tmp-*"))
    return outcome


def test_after_a_kill_during_the_save_the_models_folder_is_sound(killed_during_save):
    """No partial model (checked in _check_models_after_restart); a model whose rename landed has its card."""
    from digitcore import registry

    models = _visitor_models(killed_during_save["models"])
    assert killed_during_save["leftovers"], "the kill came too late to leave a temporary file"
    if (models / f"{JOB}.keras").exists():
        assert registry.read_card(models / f"{JOB}.keras").get("sha256")


def test_a_job_killed_while_saving_is_shown_as_interrupted(killed_during_save):
    text = killed_during_save["train_page"]
    assert re.search(rf"{JOB}.*interrupted", text, re.IGNORECASE | re.DOTALL), text[:1500]
    saved = (_visitor_models(killed_during_save["models"]) / f"{JOB}.keras").exists()
    assert ("had been saved" if saved else "nothing of it was saved") in text, text[:1500]


def test_stale_temporaries_are_cleared_when_the_server_restarts(killed_during_save):
    assert killed_during_save["remaining"] == [], killed_during_save["remaining"]
