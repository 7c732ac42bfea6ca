"""CLI commands turn the failures a user can act on into one JSON error sentence, not a traceback."""

import json

import numpy as np
import pytest

from digitcore import cli, data, registry, samples, training
from digitcore.architectures import get_preset

MISSING = "Every MNIST source failed: the cache is empty and the network is off."  # what data would say


@pytest.fixture
def no_mnist(monkeypatch):
    def unavailable(*args, **kwargs):
        raise data.DataUnavailable(MISSING)

    monkeypatch.setattr(data, "load_mnist", unavailable)


def _last_line(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_without_mnist_prints_the_data_sentence(tmp_path, no_mnist, capsys):
    registry.save(get_preset("larger_cnn").build(), {}, "m", tmp_path)
    assert cli.main(["evaluate", "--model", "m", "--models-dir", str(tmp_path)]) == 1
    assert _last_line(capsys) == {"model": str(tmp_path / "m.keras"), "error": MISSING}


def test_train_without_mnist_prints_the_data_sentence(tmp_path, no_mnist, capsys):
    assert cli.main(["train", "--arch", "larger_cnn", "--epochs", "1", "--models-dir", str(tmp_path)]) == 1
    assert _last_line(capsys) == {"event": "error", "error": MISSING}


def test_train_with_a_bad_subset_prints_the_limits_sentence(tmp_path, capsys):
    assert cli.main(["train", "--arch", "larger_cnn", "--limit", "1", "--models-dir", str(tmp_path)]) == 1
    assert _last_line(capsys)["error"] == "The training subset must hold between 2 and 60,000 digits, not 1."


def test_finetune_that_cannot_save_prints_the_save_sentence(tmp_path, monkeypatch, capsys):
    sentence = "Could not save the model tiny_mine: No space left on device. The previous model, if any, is unchanged."

    def full_disk(*args, **kwargs):
        raise registry.ModelSaveError(sentence)

    monkeypatch.setattr(training, "finetune", full_disk)
    registry.save(get_preset("larger_cnn").build(), {}, "tiny", tmp_path)  # a parent the request accepts
    samples.SampleStore(tmp_path / "s.sqlite3").add(np.zeros((28, 28), np.uint8), 7)
    assert (
        cli.main(["finetune", "--model", "tiny", "--db", str(tmp_path / "s.sqlite3"), "--models-dir", str(tmp_path)])
        == 1
    )
    assert _last_line(capsys) == {"event": "error", "error": sentence}


def test_finetune_with_too_many_epochs_is_refused_before_any_work(tmp_path, capsys):
    samples.SampleStore(tmp_path / "s.sqlite3").add(np.zeros((28, 28), np.uint8), 7)  # one digit of the user's
    assert (
        cli.main(["finetune", "--db", str(tmp_path / "s.sqlite3"), "--epochs", "51", "--models-dir", str(tmp_path)])
        == 1
    )
    assert _last_line(capsys)["error"] == "Epochs must be between 1 and 50, not 51."


def _never_called(*args, **kwargs):
    raise AssertionError("training.finetune ran although the request should have been refused")


def test_finetune_into_a_taken_name_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(training, "finetune", _never_called)
    registry.save(get_preset("larger_cnn").build(), {}, "tiny", tmp_path)
    samples.SampleStore(tmp_path / "s.sqlite3").add(np.zeros((28, 28), np.uint8), 7)
    assert (
        cli.main(
            [
                "finetune",
                "--model",
                "tiny",
                "--name",
                "tiny",
                "--db",
                str(tmp_path / "s.sqlite3"),
                "--models-dir",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert _last_line(capsys)["error"] == "A model named 'tiny' already exists. Choose another name."


def test_finetune_runs_the_validated_request(tmp_path, monkeypatch, capsys):
    """The parent resolved to its file, the app's naming rule, the user's options: what the job gets too."""
    received = {}

    def record(parent, x, y, **options):
        received.update(parent=parent, digits=len(x), **options)
        raise registry.ModelSaveError("stop here")

    monkeypatch.setattr(training, "finetune", record)
    registry.save(get_preset("larger_cnn").build(), {}, "tiny", tmp_path)
    samples.SampleStore(tmp_path / "s.sqlite3").add(np.zeros((28, 28), np.uint8), 7)
    cli.main(
        [
            "finetune",
            "--model",
            "tiny",
            "--epochs",
            "3",
            "--learning-rate",
            "0.001",
            "--seed",
            "5",
            "--db",
            str(tmp_path / "s.sqlite3"),
            "--models-dir",
            str(tmp_path),
        ]
    )
    assert {key: received[key] for key in ("parent", "digits", "name", "epochs", "learning_rate", "seed")} == {
        "parent": str(tmp_path / "tiny.keras"),
        "digits": 1,
        "name": "tiny_mine",
        "epochs": 3,
        "learning_rate": 0.001,
        "seed": 5,
    }
