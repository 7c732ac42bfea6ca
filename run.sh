#!/usr/bin/env bash
# Set everything up (idempotent) and start Digit Recognition Studio.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/python -m streamlit run streamlit_app.py "$@"
