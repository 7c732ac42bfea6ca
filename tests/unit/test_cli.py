"""The CLI contracts of DESIGN.md: fetch-data, train and evaluate print JSON as promised."""

import json
import os
import subprocess
import sys

import pytest

from digitcore.data import PROJECT_ROOT


def run_cli(*args, env=None):
    done = subprocess.run(
        [sys.executable, "-m", "digitcore", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, lines, done.stderr


def test_fetch_data_prints_the_promised_object(mnist):
    code, lines, _ = run_cli("fetch-data")
    assert code == 0 and len(lines) == 1
    assert lines[0]["train"] == 60000 and lines[0]["test"] == 10000
    assert set(lines[0]) == {"dir", "source", "train", "test"}


@pytest.mark.parametrize(
    "command", ["fetch-data", "train", "ensemble", "evaluate", "predict", "samples", "finetune", "bench"]
)
def test_every_subcommand_has_help(command):
    done = subprocess.run(
        [sys.executable, "-m", "digitcore", command, "--help"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0 and "usage: python -m digitcore" in done.stdout


LEARNED = 0.80  # 2 epochs of 2,000 digits at batch 32 give larger_cnn 88-91 % (seeds 0-2); guessing gives 10 %


def test_train_then_evaluate_a_tiny_model(tmp_path, mnist):
    code, lines, stderr = run_cli(
        "train",
        "--arch",
        "larger_cnn",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--limit",
        "2000",
        "--barred-sevens",
        "0.5",
        "--name",
        "tiny",
        "--models-dir",
        tmp_path,
    )
    assert code == 0, stderr
    assert [line["epoch"] for line in lines[:-1]] == [1, 2]
    final = lines[-1]
    assert final["event"] == "done" and final["name"] == "tiny" and final["test_accuracy"] >= LEARNED
    assert final["warning"] is None and final["validation_accuracy"] >= LEARNED
    card = json.loads((tmp_path / "tiny.json").read_text())
    assert card["training"]["command"].endswith("--models-dir " + str(tmp_path))
    assert card["training"]["recipe"]["epochs"] == 2 and card["training"]["limit"] == 2000
    assert card["training"]["recipe"]["augmentation"]["barred_sevens"] == 0.5
    assert card["test_accuracy"] == final["test_accuracy"] and len(card["per_class_accuracy"]) == 10

    code, lines, _ = run_cli("evaluate", "--model", tmp_path / "tiny.keras")
    assert code == 0 and lines[0]["n"] == 10000
    assert lines[0]["accuracy"] == pytest.approx(card["test_accuracy"], abs=1e-4)

    code, lines, _ = run_cli("evaluate", "--model", tmp_path / "missing.keras")
    assert code == 1 and lines[0]["error"] == "There is no model file named missing.keras."

    from digitcore import samples

    store = samples.SampleStore(tmp_path / "mine.sqlite3")  # the user's digits: a few training sevens
    for image in mnist.x_train[mnist.y_train == 7][:8]:
        store.add(image, 7)
    code, lines, stderr = run_cli(
        "finetune",
        "--db",
        tmp_path / "mine.sqlite3",
        "--model",
        "tiny",
        "--epochs",
        "1",
        "--name",
        "tiny_mine",
        "--models-dir",
        tmp_path,
    )
    assert code == 0, (lines, stderr)
    assert [line["event"] for line in lines] == ["epoch", "done"] and lines[-1]["parent"] == "tiny"
    # The child keeps what its parent learned (fine-tuning may cost at most 0.2 points of it) and
    # reads the sevens it was given.
    assert lines[-1]["after"]["mnist_test_accuracy"] >= LEARNED - 0.002 and lines[-1]["after"]["own_accuracy"] >= 7 / 8
    card = json.loads((tmp_path / "tiny_mine.json").read_text())
    assert card["parent"] == "tiny" and card["after"] == lines[-1]["after"]

    # The same name again is refused, and the model is unchanged; --overwrite replaces it.
    before = (tmp_path / "tiny.keras").read_bytes()
    code, lines, stderr = run_cli(
        "train",
        "--arch",
        "dense_baseline",
        "--epochs",
        "1",
        "--limit",
        "200",
        "--name",
        "tiny",
        "--models-dir",
        tmp_path,
    )
    assert code == 1 and lines[-1]["error"] == (
        "A model named 'tiny' already exists, so nothing was saved over it. Choose another name."
    )
    assert (tmp_path / "tiny.keras").read_bytes() == before


def test_train_says_so_when_the_test_accuracy_is_far_below_the_curves(tmp_path, mnist):
    # 50 digits learned by heart, none held out: the training curve ends near 100 %, new digits score far less.
    code, lines, stderr = run_cli(
        "train",
        "--arch",
        "dense_baseline",
        "--epochs",
        "30",
        "--batch-size",
        "16",
        "--limit",
        "50",
        "--validation-split",
        "0",
        "--name",
        "by_heart",
        "--models-dir",
        tmp_path,
    )
    assert code == 0, stderr
    final = lines[-1]
    assert final["train_accuracy"] >= 0.95 and final["test_accuracy"] < 0.85
    assert final["warning"].startswith(
        f"Its test accuracy ({100 * final['test_accuracy']:.2f} %) is far below its final training accuracy"
    )
    assert f"Warning: {final['warning']}" in stderr
    assert json.loads((tmp_path / "by_heart.json").read_text())["warning"] == final["warning"]


def test_samples_export_and_import_round_trip(tmp_path):
    import numpy as np

    from digitcore import samples

    source = samples.SampleStore(tmp_path / "a.sqlite3")
    for number, label in enumerate((1, 7, 7)):  # three different images (an import skips exact duplicates)
        source.add(np.full((28, 28), 30 * label + number, np.uint8), label)
    code, lines, _ = run_cli("samples", "--db", tmp_path / "a.sqlite3", "export", tmp_path / "mine.zip")
    assert code == 0 and lines == [{"file": str(tmp_path / "mine.zip"), "samples": 3, "bytes": lines[0]["bytes"]}]
    code, lines, _ = run_cli("samples", "--db", tmp_path / "b.sqlite3", "import", tmp_path / "mine.zip")
    assert code == 0 and lines[0]["imported"] == 3
    code, lines, _ = run_cli("samples", "--db", tmp_path / "b.sqlite3", "list", "--label", "7")
    assert code == 0 and [line["label"] for line in lines] == [7, 7]
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    code, lines, _ = run_cli("samples", "--db", tmp_path / "b.sqlite3", "import", tmp_path / "bad.zip")
    assert code == 1 and lines[0]["error"] == "This file is not a zip archive. Export samples from the app to get one."
