"""One set of limits (digitcore/limits.py) for the widgets, the job requests and the CLI."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from digitcore import limits
from digitcore.jobs.requests import FinetuneRequest, TrainRequest
from digitcore.registry import finetuned_name

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_server_caps_uploads_at_the_same_size_as_the_core():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_UPLOAD_MB


@pytest.mark.parametrize(
    "limit, refused",
    [
        (None, False),  # all 60,000 digits
        (limits.MIN_TRAINING_DIGITS, False),  # the smallest subset
        (limits.MIN_TRAINING_DIGITS - 1, True),  # one digit cannot be split into a run
        (limits.TRAINING_DIGITS, False),  # the whole set, named
        (limits.TRAINING_DIGITS + 1, True),  # more digits than MNIST has
    ],
)
def test_a_train_request_checks_the_subset_once_against_the_limits(tmp_path, limit, refused):
    request = TrainRequest("larger_cnn", "fine", limit=limit)
    if refused:
        with pytest.raises(ValueError, match=f"between {limits.MIN_TRAINING_DIGITS} and 60,000 digits, not {limit}"):
            request.validated(tmp_path)
    else:
        assert request.validated(tmp_path).recipe is not None


def test_a_train_request_refuses_a_taken_name(tmp_path):
    (tmp_path / "taken.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="A model named 'taken' already exists. Choose another name."):
        TrainRequest("larger_cnn", "taken").validated(tmp_path)


@pytest.mark.parametrize(
    "epochs, refused",
    [
        (limits.FINETUNE_MIN_EPOCHS, False),
        (limits.FINETUNE_MAX_EPOCHS, False),
        (limits.FINETUNE_MIN_EPOCHS - 1, True),  # no epoch at all
        (limits.FINETUNE_MAX_EPOCHS + 1, True),  # the CLI once allowed any number
    ],
)
def test_a_finetune_request_checks_its_epochs_against_the_limits(tmp_path, epochs, refused):
    (tmp_path / "parent.keras").write_bytes(b"")
    request = FinetuneRequest("parent", np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8), "child", epochs)
    if refused:
        with pytest.raises(ValueError, match=f"Epochs must be between 1 and 50, not {epochs}."):
            request.validated(tmp_path)
    else:
        assert request.validated(tmp_path).parent == str(tmp_path / "parent.keras")


def test_fine_tuned_models_get_one_naming_style(tmp_path):
    assert finetuned_name("digitnet", tmp_path) == "digitnet_mine"
    (tmp_path / "digitnet_mine.keras").write_bytes(b"")
    assert finetuned_name("digitnet", tmp_path) == "digitnet_mine_2"
