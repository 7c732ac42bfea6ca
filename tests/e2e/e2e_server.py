"""The app served for the browser tests: `streamlit run` on a free port over a models folder."""

import contextlib
import os
import subprocess
import time
from pathlib import Path

from app_server import free_port, healthy, streamlit_command
from e2e_paths import ARTEFACTS, ROOT

SERVER_START_SECONDS = 90  # a ceiling for the health check, never an assertion about speed


@contextlib.contextmanager
def served_app(models_dir: Path, workspaces_dir: Path, log_name: str = "e2e-server.log"):
    """`streamlit run streamlit_app.py` headless on a free port over the shipped-models folder
    `models_dir`, visitors' workspaces in `workspaces_dir`; yields its URL."""
    ARTEFACTS.mkdir(exist_ok=True)
    port = free_port()
    command = streamlit_command(port)
    # Samples and models the browser tests save go to throwaway workspaces, never the user's own.
    environment = {
        **os.environ,
        "DIGITCORE_MODELS_DIR": str(models_dir),
        "DIGITCORE_WORKSPACES_DIR": str(workspaces_dir),
    }
    log = open(ARTEFACTS / log_name, "w")
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"The app did not start; see {ARTEFACTS / log_name}.")
        time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
