"""Private workspaces: each visitor of the app keeps their saved digits, their trained and fine-tuned
models and their jobs in a folder of their own, named by a key they can bookmark.

A workspace key is the only thing a visitor sends that names files, so it is checked here, once:
a short run of letters, digits, '-' and '_', never a path. Its folder is always a direct child of
the workspaces folder (paths.workspaces_dir()); the shipped models stay in the shared, read-only
models folder. No Streamlit here: the page helper in app_pages/common.py reads the key from the URL.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from digitcore import paths

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")
NEW_KEY_BYTES = 8  # 16 hex digits: unguessable, so a key is as private as a link that is not shared
SAMPLES_FILE = "samples.sqlite3"
MODELS_FOLDER = "models"


class InvalidWorkspace(ValueError):
    """A workspace key that is not one: str() says what a key looks like."""


@dataclass(frozen=True)
class Workspace:
    """One visitor's workspace; build it with `parse` or `new`, which check the key."""

    key: str
    root: Path  # the workspaces folder it lives in

    @property
    def folder(self) -> Path:
        return self.root / self.key

    @property
    def models_dir(self) -> Path:
        """The visitor's own trained and fine-tuned models (the registry's folder for them)."""
        return self.folder / MODELS_FOLDER

    @property
    def samples_path(self) -> Path:
        """The visitor's own saved digits (one SQLite file per workspace)."""
        return self.folder / SAMPLES_FILE


def parse(key: str, root: Path | None = None) -> Workspace:
    """The workspace named `key` (created on first use by whoever writes into it), or InvalidWorkspace."""
    root = Path(root) if root is not None else paths.workspaces_dir()
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidWorkspace(
            "A workspace key is 4 to 40 letters, digits, '-' or '_', starting with a letter or digit."
        )
    workspace = Workspace(key, root)
    # The pattern already rules out separators and dots; this is the rule itself, checked again.
    if workspace.folder.resolve().parent != root.resolve():
        raise InvalidWorkspace("A workspace key cannot name a folder outside the workspaces folder.")
    return workspace


def new(root: Path | None = None) -> Workspace:
    """A fresh workspace with an unguessable key (a visitor's first visit)."""
    return parse(secrets.token_hex(NEW_KEY_BYTES), root)
