#!/usr/bin/env bash
# Set everything up (idempotent, with test packages and chromium) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
