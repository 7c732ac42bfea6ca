"""The shipped models are what their cards and the README say: each model in models/ scores its
card's test accuracy on the 10,000 MNIST test digits, and the README's "Shipped models" table
repeats the cards (accuracy, parameters, file size, fit time, epochs × batch, default)."""

import json
import re
from pathlib import Path

import pytest

from digitcore import evaluation, registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models"
CARDS = {path.stem: json.loads(path.read_text()) for path in sorted(SHIPPED.glob("*.json"))}
ONE_DIGIT = 1 / 10000  # one test digit read differently out of 10,000


def _readme_rows() -> dict[str, dict[str, str]]:
    """The "Shipped models" table of README.md: model name -> {column header: cell text}."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Shipped models", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:  # after the header and the |---| line
        cells = dict(zip(headers, (cell.strip() for cell in line.strip("|").split("|"))))
        name = re.fullmatch(r"`([\w-]+)`( \(default\))?", cells["model"])
        assert name, f"README row with an unreadable model cell: {line}"
        rows[name.group(1)] = {**cells, "default": bool(name.group(2))}
    return rows


def test_the_shipped_folder_holds_models_with_cards():
    # Guards the tests below against passing over an empty or half-copied folder.
    assert len(CARDS) >= 8, sorted(CARDS)
    assert {path.stem for path in SHIPPED.glob("*.keras")} == set(CARDS)
    assert [name for name, card in CARDS.items() if card.get("default")] == ["digitnet"]


def test_the_readme_table_matches_the_model_cards():
    rows = _readme_rows()
    assert set(rows) == set(CARDS), "README rows and models/*.json differ"
    for name, card in CARDS.items():
        row = rows[name]
        recipe = card["training"].get("recipe") or {}  # an ensemble has no recipe of its own
        seconds = card["training"].get("seconds")
        published = card.get("published_accuracy")
        expected = {
            "layout": card["title"],
            "parameters": f"{card['parameters']:,}",
            "file": f"{card['file_bytes'] / 1e6:.1f} MB",
            "test accuracy": f"{100 * card['test_accuracy']:.2f} %",
            "published": "–" if published is None else f"{100 * published:.2f} %",
            "fit time (2 CPU cores)": "–" if seconds is None else f"{seconds:.0f} s",
            "epochs × batch": f"{recipe['epochs']} × {recipe['batch_size']}" if recipe else "–",
            "default": bool(card.get("default")),
        }
        shown = {column: row[column] for column in expected}
        assert shown == expected, f"README row of {name} disagrees with models/{name}.json"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CARDS))
def test_each_shipped_model_scores_its_cards_accuracy_on_the_test_digits(name, mnist):
    """Loaded as `evaluate` loads it (the card's checksum verified) and scored on all 10,000 test digits,
    in this process: the CLI's evaluate contract itself is tested in test_cli, and a TensorFlow start
    per model cost about 5 s each."""
    model = registry.load(SHIPPED / f"{name}.keras")
    probabilities = evaluation.predict_probabilities(model, mnist.x_test)
    accuracy = evaluation.accuracy(mnist.y_test, probabilities.argmax(axis=1))
    assert len(probabilities) == 10000 == CARDS[name]["test_examples"]
    # The card is rounded to 4 decimals; batch order may flip one borderline digit, never two.
    assert abs(accuracy - CARDS[name]["test_accuracy"]) <= ONE_DIGIT + 1e-9, (accuracy, CARDS[name]["test_accuracy"])
