"""What the browser benchmarks share: the app served on a free loopback port over a copy of the
models, its own CPU time read from /proc, Chromium's flags, the machine, and percentiles."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "app"))
from app_server import free_port, healthy, streamlit_command  # noqa: E402  (the command the tests serve the app with)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
START_SECONDS = 120  # a ceiling for the health check
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (Linux /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of a process's resident memory (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))], 3)


def machine() -> dict:
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")),
        "0",
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(memory) / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@contextlib.contextmanager
def served_app(models: Path, *, keep: bool = False):
    """Yield (url, server process, its models folder) for `streamlit run streamlit_app.py` over a
    temporary copy of `models`; the copy (with the server log) is removed afterwards unless `keep`."""
    work = Path(tempfile.mkdtemp(prefix="digit-bench-"))
    shutil.copytree(models, work / "models", ignore=shutil.ignore_patterns(".tmp-*", ".jobs"))
    port = free_port()
    command = streamlit_command(port)
    environment = {
        **os.environ,
        "DIGITCORE_MODELS_DIR": str(work / "models"),
        "DIGITCORE_SAMPLES_DB": str(work / "samples.sqlite3"),
    }
    log = open(work / "server.log", "w")
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The app did not start; see {work / 'server.log'}.")
            time.sleep(0.2)
        yield url, server, work / "models"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
