"""Ensembles: one saved model that averages its members' probabilities, with a card naming them."""

import numpy as np
import pytest
from test_cli import run_cli

from digitcore import ensemble, evaluation, registry
from digitcore.jobs.requests import FinetuneRequest

MEMBERS = ["small_cnn", "small_dense"]  # the two small real models of tests/conftest.py


def test_an_ensemble_predicts_the_average_of_its_members_and_its_card_says_so(models_dir, mnist):
    done = ensemble.build_and_save(MEMBERS, "pair", directory=models_dir, mnist=mnist)
    digits = mnist.x_test[:300]
    members = [registry.load(models_dir / f"{name}.keras") for name in MEMBERS]
    average = np.mean([evaluation.predict_probabilities(member, digits) for member in members], axis=0)
    combined = registry.load(models_dir / "pair.keras")  # loaded back from its file, checksum verified
    np.testing.assert_allclose(evaluation.predict_probabilities(combined, digits), average, atol=1e-5)

    card = registry.read_card(models_dir / "pair.keras")
    assert card is not None and card.architecture == ensemble.ARCHITECTURE
    assert ensemble.members_of(card) == MEMBERS
    assert [member["sha256"] for member in card.training.extra["members"]] == [
        registry.read_card(models_dir / f"{name}.keras").sha256 for name in MEMBERS
    ]
    everything = evaluation.predict_probabilities(combined, mnist.x_test)
    assert card.test_accuracy == done.test_accuracy == evaluation.accuracy(mnist.y_test, everything.argmax(1))
    assert card.test_examples == 10000 and not card.default  # the default model stays the default


@pytest.mark.parametrize(
    "members, sentence",
    [
        (["small_cnn"], "averages 2 to 5 models, not 1"),
        (["small_cnn", "small_cnn"], "can be named once"),
    ],
)
def test_members_that_cannot_be_averaged_are_refused_with_a_sentence(models_dir, members, sentence):
    with pytest.raises(ensemble.EnsembleError, match=sentence):
        ensemble.build_and_save(members, "refused", directory=models_dir)
    assert not (models_dir / "refused.keras").exists()


def test_an_ensemble_is_not_a_member_and_is_not_fine_tuned(models_dir, mnist):
    ensemble.build_and_save(MEMBERS, "pair", directory=models_dir, mnist=mnist)
    with pytest.raises(ensemble.EnsembleError, match="pair is an ensemble itself"):
        ensemble.build_and_save(["pair", "small_cnn"], "nested", directory=models_dir, mnist=mnist)
    request = FinetuneRequest(
        parent="pair", x_samples=mnist.x_test[:3], y_samples=mnist.y_test[:3], epochs=1, name=None
    )
    with pytest.raises(ValueError, match="pair is an ensemble of small_cnn, small_dense: fine-tune one of them"):
        request.validated(models_dir)


def test_the_cli_builds_an_ensemble_and_prints_one_json_object(models_dir):
    code, lines, _ = run_cli("ensemble", "--members", ",".join(MEMBERS), "--name", "pair", "--models-dir", models_dir)
    assert code == 0 and len(lines) == 1
    assert lines[0]["event"] == "done" and lines[0]["name"] == "pair"
    assert [member["name"] for member in lines[0]["members"]] == MEMBERS
    card = registry.read_card(models_dir / "pair.keras")
    assert card.test_accuracy == lines[0]["test_accuracy"]
    assert card.training.command.startswith("python -m digitcore ensemble --members small_cnn,small_dense")
