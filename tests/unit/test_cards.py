"""Model cards: every shipped card and an old-format card load into ModelCard, and a card written
back keeps every key it was read with."""

import json
from pathlib import Path

import pytest

from digitcore import cards, registry
from digitcore.cards import ModelCard, TrainingRecord
from digitcore.events import EpochEnd

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "models").glob("*.json"))

# A card as training wrote it before cards had a format number: history entries still carry the
# "stopped" flag, and one key ("generation") that no version of ModelCard knows.
OLD_CARD = {
    "architecture": "larger_cnn",
    "title": "Larger CNN",
    "default": False,
    "name": "old",
    "file": "old.keras",
    "sha256": "ab" * 32,
    "file_bytes": 123,
    "parameters": 59933,
    "test_accuracy": 0.99,
    "test_examples": 10000,
    "per_class_accuracy": [0.99] * 10,
    "published_accuracy": None,
    "published_params": None,
    "history": [
        {
            "event": "epoch",
            "epoch": 1,
            "epochs": 1,
            "loss": 0.3,
            "accuracy": 0.9,
            "val_loss": None,
            "val_accuracy": None,
            "learning_rate": 0.001,
            "seconds": 2.0,
            "stopped": False,
        }
    ],
    "training": {
        "architecture": "larger_cnn",
        "seed": 0,
        "limit": None,
        "epochs_completed": 1,
        "recipe": {"epochs": 1, "batch_size": 64, "batchnorm_momentum": 0.99},
        "seconds": 2.0,
    },
    "data_checksums": {},
    "created_at": "2026-11-01T00:00:00+00:00",
    "versions": {"keras": "3"},
    "generation": 7,
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_card_loads_with_its_facts(path):
    raw = json.loads(path.read_text())
    card = ModelCard.from_json(path.read_text())
    assert card.name == raw["name"] and card.test_accuracy == raw["test_accuracy"]
    assert card.default is raw["default"] and card.sha256 == raw["sha256"]
    assert [event.epoch for event in card.history] == [event["epoch"] for event in raw["history"]]
    assert card.training.epochs_completed == raw["training"]["epochs_completed"]


def test_an_old_format_card_loads_and_is_written_back_with_every_key_it_had():
    card = ModelCard.from_dict(OLD_CARD)
    assert card.card_format == 1  # no number: written before the format had one
    assert card.history == [EpochEnd(epoch=1, epochs=1, loss=0.3, accuracy=0.9, learning_rate=0.001, seconds=2.0)]
    assert card.training.limit is None and card.training.recipe["batch_size"] == 64
    assert card.extra == {"generation": 7}
    written = card.to_dict()
    # Every old key comes back with its value, except the history's obsolete "stopped" flag.
    old_history = [{key: value for key, value in event.items() if key != "stopped"} for event in OLD_CARD["history"]]
    assert written["history"] == old_history
    for key, value in OLD_CARD.items():
        if key not in ("history", "training"):
            assert written[key] == value, key
    assert {key: written["training"][key] for key in OLD_CARD["training"]} == OLD_CARD["training"]


def test_older_readers_still_read_a_card_by_key():
    card = ModelCard.from_dict(OLD_CARD)
    assert card["test_accuracy"] == card.test_accuracy and card.get("parent") is None
    assert card["training"]["limit"] is None and card["generation"] == 7
    with pytest.raises(KeyError):
        card["no_such_key"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"test_accuracy": "high"}, "wrong type"),  # a number field holding text
        ({"history": [{"epoch": "one"}]}, "wrong type"),  # a history entry that is not an epoch
        ({"before": {"own_accuracy": 0.5}}, "wrong type"),  # scores missing a field
    ],
)
def test_a_card_with_a_field_of_the_wrong_type_is_refused(change, message):
    with pytest.raises(cards.InvalidCard, match=message):
        ModelCard.from_dict({**OLD_CARD, **change})


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not usable: it is not valid JSON"),  # damaged
        ("[1, 2]", "not usable: it is not a JSON object"),  # JSON, but no object
    ],
)
def test_the_registry_reports_an_unreadable_card_as_a_model_file_error(tmp_path, text, message):
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(registry.ModelFileError, match=message):
        registry.read_card(tmp_path / "m.keras")
    assert registry.read_card(tmp_path / "absent.keras") is None


def test_a_written_card_reads_back_equal():
    card = ModelCard.from_dict(OLD_CARD).replace(training=TrainingRecord(seed=3, limit=2000), default=True)
    assert ModelCard.from_json(card.to_json()) == card
