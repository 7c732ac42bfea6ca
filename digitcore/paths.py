"""Where the project keeps its files, and the environment variables that move them: the one place.

Each folder is read from its variable at call time (tests and servers set them before use), else
from its place in the project. Nothing here imports Keras or creates a folder.

    DIGITCORE_DATA_DIR     the MNIST cache (default data/mnist/)
    DIGITCORE_MODELS_DIR   trained models and their cards (default models/)
    DIGITCORE_SAMPLES_DB   the visitor's saved digits, SQLite (default data/samples.sqlite3)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DATA_DIR_VARIABLE = "DIGITCORE_DATA_DIR"
MODELS_DIR_VARIABLE = "DIGITCORE_MODELS_DIR"
SAMPLES_DB_VARIABLE = "DIGITCORE_SAMPLES_DB"


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
