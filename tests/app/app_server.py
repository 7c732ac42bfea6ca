"""The app served for real (`streamlit run streamlit_app.py`, headless, on a free loopback port):
the command, the port and the health check that the browser tests, the server-kill tests and the
benchmarks share (each starts and stops its server its own way)."""

import socket
import sys
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the server at `url` answers its health check."""
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def streamlit_command(port: int) -> list[str]:
    """The command serving the app on 127.0.0.1:`port` (run it from the project folder)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
