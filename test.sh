#!/usr/bin/env bash
# Set everything up (idempotent, with test packages and chromium) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
# Lint, formatting and types first (settings in pyproject.toml): a failure here stops before the slow tests.
.venv/bin/ruff check . || { echo "test.sh: ruff found problems (above); fix them, or run '.venv/bin/ruff check --fix .' for the mechanical ones." >&2; exit 1; }
.venv/bin/ruff format --check . || { echo "test.sh: files are not formatted as ruff formats them; run '.venv/bin/ruff format .'." >&2; exit 1; }
.venv/bin/mypy digitcore || { echo "test.sh: mypy found type errors in digitcore (above)." >&2; exit 1; }
# Two workers (pytest-xdist), one per core: while one waits on a browser or a served app, the other
# trains or runs the app in AppTest. tests/conftest.py keeps each module, and all browser tests, on one
# worker. Pass -n 0 to run in one process.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
