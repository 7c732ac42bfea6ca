#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with the pinned packages, the verified MNIST
# cache, and with --test the test packages and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "setup: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python"
  "$python" -m venv .venv
fi

requirements=(requirements.txt)
[ "$with_tests" = 1 ] && requirements+=(requirements-test.txt)
stamp=.venv/.installed-$(cat "${requirements[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing ${requirements[*]}"
  .venv/bin/python -m pip install --quiet --upgrade pip
  args=(); for file in "${requirements[@]}"; do args+=(-r "$file"); done
  .venv/bin/python -m pip install --quiet "${args[@]}"
  touch "$stamp"
fi

# chromium for the browser tests; the Liberation and DejaVu fonts draw the letters and symbols the
# not-a-digit guard's tests show it (tests/unit/test_not_a_digit.py)
if [ "$with_tests" = 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/liberation ] \
    || [ ! -d /usr/share/fonts/truetype/dejavu ]; }; then
  echo "setup: installing Debian's chromium and fonts for the tests"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-liberation fonts-dejavu-core >/dev/null
fi

.venv/bin/python -m digitcore fetch-data >/dev/null
echo "setup: ready (MNIST cache verified)"
