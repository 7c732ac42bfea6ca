"""The predict command over a folder of good and bad files, run as a user runs it: a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import digitcore
from test_inference import small_model_directory
from test_preprocess import big_digit, encode, paper_photo

PROJECT = Path(digitcore.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, mnist) -> Path:
    return small_model_directory(tmp_path_factory, mnist)


def _files(folder: Path, mnist) -> list[tuple[str, int | None]]:
    """Write good and bad files in a mixed order; returns (name, expected digit or None for an error)."""

    def drawn(index: int) -> np.ndarray:  # black on white, 280x280
        return np.round(255 * (1 - big_digit(mnist.x_test[index]))).astype(np.uint8)

    photo_ink = np.pad(big_digit(mnist.x_test[1], height=100, side=480), ((0, 0), (80, 80)))
    files = {
        "seven.png": (encode(Image.fromarray(drawn(0)), "PNG"), int(mnist.y_test[0])),
        "empty.png": (b"", None),
        "two_photo.jpg": (encode(Image.fromarray(paper_photo(photo_ink)), "JPEG", quality=80), int(mnist.y_test[1])),
        "notes.png": (b"shopping list: milk, eggs\n", None),
        "one_white_on_black.png": (encode(Image.fromarray(255 - drawn(2)), "PNG"), int(mnist.y_test[2])),
        "cut.png": (encode(Image.fromarray(drawn(3)), "PNG")[:300], None),
        "zero_cmyk.jpg": (encode(Image.fromarray(drawn(3)).convert("CMYK"), "JPEG", quality=90), int(mnist.y_test[3])),
        "blank.jpg": (
            encode(Image.fromarray(paper_photo(np.zeros((480, 640), np.float32), shadow=False)), "JPEG"),
            None,
        ),
        "four_16bit.png": (encode(Image.fromarray(drawn(4).astype(np.uint16) * 257), "PNG"), int(mnist.y_test[4])),
        "dot.png": (encode(Image.new("L", (1, 1), 0), "PNG"), None),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return [(name, expected) for name, (_, expected) in files.items()] + [("missing.png", None)]


def _run(models_dir: Path, paths: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIGITCORE_MODELS_DIR": str(models_dir)}
    return subprocess.run(
        [sys.executable, "-m", "digitcore", "predict", "--models-dir", str(models_dir), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_predict_over_good_and_bad_files(tmp_path, models_dir, mnist):
    cases = _files(tmp_path, mnist)
    paths = [tmp_path / name for name, _ in cases]
    result = _run(models_dir, paths)
    lines = result.stdout.splitlines()
    assert len(lines) == len(cases), result.stderr
    for line, path, (name, expected) in zip(lines, paths, cases):
        answer = json.loads(line)
        assert answer["file"] == str(path)  # one object per file, in order
        if expected is None:
            assert set(answer) == {"file", "error"}, f"{name}: {answer}"
            assert len(answer["error"]) > 20
        else:
            assert set(answer) == {
                "file",
                "digit",
                "confidence",
                "probabilities",
                "not_a_digit",
                "not_a_digit_score",
            }, f"{name}: {answer}"
            assert answer["not_a_digit"] is False, f"{name}: a real digit was called not a digit"
            assert answer["digit"] == expected, f"{name}: read {answer['digit']}, expected {expected}"
            assert len(answer["probabilities"]) == 10 and abs(sum(answer["probabilities"]) - 1) < 1e-3
            assert answer["confidence"] == max(answer["probabilities"])
    assert result.returncode == 1  # some files failed


@pytest.mark.slow
def test_predict_exits_zero_when_every_file_gives_a_digit(tmp_path, models_dir, mnist):
    good = [tmp_path / name for name, expected in _files(tmp_path, mnist) if expected is not None]
    result = _run(models_dir, good)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(path) for path in good]


@pytest.mark.parametrize(
    "kind",
    [
        "canvas",  # forcing the drawing path on a clean drawing
        "photo",  # the photo path copes with a clean drawing too
    ],
)
def test_predict_files_in_process_honours_kind(tmp_path, models_dir, mnist, kind):
    from digitcore import registry
    from digitcore.reading import files

    model = registry.load(None, models_dir)
    cases = _files(tmp_path, mnist)
    paths = [tmp_path / "seven.png", tmp_path / "notes.png", tmp_path]  # an image, a text file, a folder
    results = list(files.predict_files(model, paths, kind=kind))
    assert results[0]["digit"] == dict(cases)["seven.png"]
    assert "error" in results[1] and "folder" in results[2]["error"]


@pytest.mark.slow
def test_predict_with_a_damaged_model_gives_every_file_an_error_line(tmp_path, models_dir, mnist):
    good = [tmp_path / name for name, expected in _files(tmp_path, mnist) if expected is not None][:2]
    damaged = tmp_path / "damaged-models"
    damaged.mkdir()
    for card in models_dir.glob("*.json"):
        (damaged / card.name).write_bytes(card.read_bytes())
    for model in models_dir.glob("*.keras"):
        (damaged / model.name).write_bytes(model.read_bytes()[:1000])  # cut short by a full disk
    result = _run(damaged, good)
    assert result.returncode == 1
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [answer["file"] for answer in answers] == [str(path) for path in good]
    assert all("default model" in answer["error"] and "cannot be used" in answer["error"] for answer in answers), (
        answers
    )
