"""Where the project keeps its files, and the environment variables that move them: the one place.

Each folder is read from its variable at call time (tests and servers set them before use), else
from its place in the project. Nothing here imports Keras or creates a folder.

    DIGITCORE_DATA_DIR     the MNIST cache (default data/mnist/)
    DIGITCORE_MODELS_DIR   trained models and their cards (default models/)
    DIGITCORE_SAMPLES_DB   the visitor's saved digits, SQLite (default data/samples.sqlite3)
    DIGITCORE_WORKSPACES_DIR  the visitors' private workspaces of the app (default data/workspaces/)
    DIGITCORE_CLUSTER      a Dask scheduler address to run training jobs on (default: an embedded cluster)
    DIGITCORE_WORKERS      workers of the embedded cluster (default: one per core)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DATA_DIR_VARIABLE = "DIGITCORE_DATA_DIR"
MODELS_DIR_VARIABLE = "DIGITCORE_MODELS_DIR"
SAMPLES_DB_VARIABLE = "DIGITCORE_SAMPLES_DB"
WORKSPACES_DIR_VARIABLE = "DIGITCORE_WORKSPACES_DIR"
CLUSTER_VARIABLE = "DIGITCORE_CLUSTER"
WORKERS_VARIABLE = "DIGITCORE_WORKERS"


def _configured(variable: str, default: Path) -> Path:
    configured = os.environ.get(variable)
    return Path(configured).expanduser() if configured else default


def data_dir() -> Path:
    """The MNIST cache folder."""
    return _configured(DATA_DIR_VARIABLE, PROJECT_ROOT / "data" / "mnist")


def models_dir() -> Path:
    """The models folder."""
    return _configured(MODELS_DIR_VARIABLE, PROJECT_ROOT / "models")


def samples_db() -> Path:
    """The SQLite file of the visitor's saved digits (git-ignored)."""
    return _configured(SAMPLES_DB_VARIABLE, PROJECT_ROOT / "data" / "samples.sqlite3")


def workspaces_dir() -> Path:
    """The folder holding one folder per visitor's workspace (git-ignored)."""
    return _configured(WORKSPACES_DIR_VARIABLE, PROJECT_ROOT / "data" / "workspaces")
