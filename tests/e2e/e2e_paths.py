"""Paths the browser tests share (a test module must not import `conftest`: which module that
name means depends on what pytest collected first)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts"  # git-ignored: screenshots and server logs
E2E_WORKSPACE = "e2e-visitor"  # the workspace every browser test works in unless it says otherwise
