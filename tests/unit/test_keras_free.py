"""The commands that need no network (--help, samples) and the recipe definitions load no Keras or
TensorFlow: importing TensorFlow costs seconds and hundreds of MB before the first line is printed."""

import json
import subprocess
import sys

import pytest

from digitcore.data import PROJECT_ROOT

# Runs ARGV through the CLI in a fresh interpreter and prints which of the heavy modules got imported.
PROBE = """
import json, sys
from digitcore import cli
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exit:  # --help exits from argparse
    code = exit.code
print(json.dumps({"code": code, "loaded": sorted(name for name in ("keras", "tensorflow") if name in sys.modules)}))
"""


def _heavy_modules_loaded(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),  # the overview, with every preset and recipe name in the train command's choices
        ("train", "--help"),
        ("samples", "--db", "{tmp}/s.sqlite3", "list"),
    ],
)
def test_commands_without_a_network_load_no_keras(tmp_path, argv):
    answer = _heavy_modules_loaded(*(part.format(tmp=tmp_path) for part in argv))
    assert answer == {"code": 0, "loaded": []}


def test_recipes_presets_and_requests_load_no_keras():
    code = (
        "import sys; from digitcore import architectures, recipes, jobs, errors; "
        "architectures.get_preset('digitnet').recipe.sized_for(6000).validate(); "
        "print(sorted(name for name in ('keras', 'tensorflow') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
