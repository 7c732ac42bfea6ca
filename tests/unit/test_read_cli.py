"""The read command over good and bad files, run as a user runs it: a subprocess, one JSON line per file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_reading import digit_ink, number_page, on_paper, ruled

import digitcore
from test_inference import small_model_directory
from test_preprocess import encode

PROJECT = Path(digitcore.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, mnist) -> Path:
    return small_model_directory(tmp_path_factory, mnist)


def _run(models_dir: Path, command: str, paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digitcore", command, "--models-dir", str(models_dir), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "DIGITCORE_MODELS_DIR": str(models_dir)},
        timeout=300,
    )


@pytest.mark.slow
def test_read_prints_each_number_and_the_same_errors_as_predict(tmp_path, models_dir, mnist):
    indices = (0, 1, 2, 3)
    number = "".join(str(int(mnist.y_test[i])) for i in indices)
    ink = number_page([digit_ink(mnist.x_test[i]) for i in indices], gap=25)
    files = {
        "number.png": encode(Image.fromarray(on_paper(ink)), "PNG"),
        "empty.png": b"",
        "notes.png": b"shopping list: milk, eggs\n",
        "ruled.jpg": encode(Image.fromarray(ruled(on_paper(ink), spacing=50, angle=-4.0)), "JPEG", quality=90),
        "blank.png": encode(Image.fromarray(on_paper(np.zeros((200, 300), np.float32))), "PNG"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / name for name in files] + [tmp_path / "missing.png"]
    result = _run(models_dir, "read", paths)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [answer["file"] for answer in answers] == [str(path) for path in paths], result.stderr
    for name in ("number.png", "ruled.jpg"):
        answer = answers[list(files).index(name)]
        assert set(answer) == {"file", "number", "rows", "digits"}, answer
        assert answer["number"] == number and answer["rows"] == [number]
        assert [d["digit"] for d in answer["digits"]] == [int(c) for c in number]
        assert all(set(d) == {"digit", "confidence", "box", "row"} and len(d["box"]) == 4 for d in answer["digits"])
        xs = [d["box"][0] for d in answer["digits"]]
        assert xs == sorted(xs)
    # every bad file gets one line with an error sentence, and the same sentence predict gives it
    bad = [path for path in paths if path.name not in ("number.png", "ruled.jpg", "blank.png")]
    predicted = {
        json.loads(line)["file"]: json.loads(line) for line in _run(models_dir, "predict", bad).stdout.splitlines()
    }
    for answer in answers:
        if Path(answer["file"]) in bad:
            assert set(answer) == {"file", "error"}, answer
            assert answer["error"] == predicted[answer["file"]]["error"]
    blank = answers[list(files).index("blank.png")]
    assert set(blank) == {"file", "error"} and "No digit found" in blank["error"]
    assert result.returncode == 1


@pytest.mark.slow
def test_read_exits_zero_when_every_file_gives_a_number(tmp_path, models_dir, mnist):
    ink = number_page([digit_ink(mnist.x_test[i]) for i in (0, 1)], gap=25)
    path = tmp_path / "two.png"
    path.write_bytes(encode(Image.fromarray(on_paper(ink)), "PNG"))
    result = _run(models_dir, "read", [path])
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["number"] == "".join(str(int(mnist.y_test[i])) for i in (0, 1))
