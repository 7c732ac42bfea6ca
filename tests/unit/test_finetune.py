"""Robustness probes, barred-seven augmentation, and fine-tuning on the user's own digits."""

import json

import numpy as np
import pytest

from digitcore import architectures, evaluation, probes, registry, training


@pytest.mark.parametrize("name", list(probes.PROBES))
def test_each_probe_changes_digits_but_keeps_labels(mnist, name):
    x, y = probes.probe_set(name, mnist.x_test, mnist.y_test, limit=50)
    assert x.shape == (len(y), 28, 28) and x.dtype == np.uint8
    digit = probes.ONE_DIGIT_PROBES.get(name)
    original = mnist.x_test[mnist.y_test == digit][:50] if digit is not None else mnist.x_test[:50]
    assert (y == digit).all() if digit is not None else np.array_equal(y, mnist.y_test[:50])
    changed = np.mean([not np.array_equal(a, b) for a, b in zip(x, original)])
    assert changed >= 0.85  # "thin" keeps the few digits that thinning would erase


def test_a_bar_crosses_the_stem_of_a_seven(mnist):
    seven = mnist.x_test[mnist.y_test == 7][0]
    barred = probes.add_bar(seven)
    new_ink = (barred > 200) & (seven < 64)
    rows = np.flatnonzero(new_ink.any(axis=1))
    ink_rows = np.flatnonzero(seven.max(axis=1) > 64)
    assert len(rows) >= 2 and ink_rows[0] + 5 < rows[0] < ink_rows[-1] - 3  # below the top bar, above the foot
    assert new_ink.sum() >= 8


def test_barred_seven_augmentation_touches_only_the_chosen_share_of_sevens(mnist):
    x, y = mnist.x_train[:2000], mnist.y_train[:2000]
    barred = probes.bar_sevens(x, y, fraction=0.5, seed=1)
    changed = np.flatnonzero([not np.array_equal(a, b) for a, b in zip(barred, x)])
    assert (y[changed] == 7).all()
    assert abs(len(changed) - 0.5 * (y == 7).sum()) <= 2


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, mnist):
    directory = tmp_path_factory.mktemp("models")
    preset = architectures.get_preset("larger_cnn")
    training.train_and_save(
        preset,
        recipe=preset.recipe.with_overrides(epochs=2),
        limit=6000,
        name="tiny",
        models_directory=directory,
        mnist=mnist,
    )
    return directory


def _barred_accuracy(model, mnist):
    x, y = probes.probe_set("barred_sevens", mnist.x_test, mnist.y_test, limit=None)
    return evaluation.accuracy(y, evaluation.predict_probabilities(model, x).argmax(1))


def test_training_can_start_from_a_saved_model_and_its_card_names_it(tiny_model_dir, mnist):
    preset = architectures.get_preset("larger_cnn")
    parent = registry.read_card(registry.resolve("tiny", tiny_model_dir))
    assert parent is not None and parent.test_accuracy > 0.8  # three steps from scratch stay near chance
    # one epoch on 600 digits: from scratch that is far from the parent's accuracy, from the parent it keeps it
    done = training.train_and_save(
        preset,
        recipe=preset.recipe.with_overrides(epochs=1, learning_rate=1e-4),
        limit=600,
        name="continued",
        models_directory=tiny_model_dir,
        mnist=mnist,
        start_from="tiny",
    )
    assert done.test_accuracy >= parent.test_accuracy - 0.02
    card = registry.read_card(registry.resolve("continued", tiny_model_dir))
    assert card.training.extra["started_from"] == {
        "name": "tiny",
        "sha256": parent.sha256,
        "test_accuracy": parent.test_accuracy,
    }
    with pytest.raises(ValueError, match="can only start from a saved dense_baseline; tiny.keras has a larger_cnn"):
        training.train_and_save(
            architectures.get_preset("dense_baseline"),
            limit=600,
            name="other",
            models_directory=tiny_model_dir,
            mnist=mnist,
            start_from="tiny",
        )


def test_finetuning_on_a_few_barred_sevens_helps_and_keeps_mnist(tiny_model_dir, mnist):
    # 20 barred sevens from the TRAINING set; scored on the 1,028 barred TEST sevens.
    sevens = np.flatnonzero(mnist.y_train == 7)[:20]
    own_x = np.stack([probes.add_bar(mnist.x_train[i]) for i in sevens])
    own_y = mnist.y_train[sevens]
    before = _barred_accuracy(registry.load("tiny", tiny_model_dir), mnist)
    result = training.finetune(
        "tiny", own_x, own_y, epochs=2, user_examples=600, models_directory=tiny_model_dir, mnist=mnist
    )
    after = _barred_accuracy(registry.load(result.name, tiny_model_dir), mnist)
    assert after > before + 0.02
    assert result.within_bound and result.after.mnist_test_accuracy >= result.before.mnist_test_accuracy - 0.002
    card = json.loads((tiny_model_dir / f"{result.name}.json").read_text())
    assert card["parent"] == "tiny" and card["before"] == result.before.to_dict()
    assert card["after"] == result.after.to_dict()


def test_finetuning_needs_digits(tiny_model_dir, mnist):
    with pytest.raises(ValueError, match="at least one"):
        training.finetune(
            "tiny", np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), models_directory=tiny_model_dir, mnist=mnist
        )


def test_finetuning_that_costs_too_much_mnist_accuracy_saves_nothing(tiny_model_dir, mnist):
    # Zeros labelled as ones, learnt at a learning rate far too high: MNIST accuracy collapses.
    zeros = np.flatnonzero(mnist.y_train == 0)[:20]
    before = sorted(path.name for path in tiny_model_dir.iterdir())
    with pytest.raises(training.FinetuneRejected, match=r"points of MNIST test accuracy .* nothing was saved"):
        training.finetune(
            "tiny",
            mnist.x_train[zeros],
            np.ones(20, np.uint8),
            epochs=2,
            user_examples=2000,
            learning_rate=0.05,
            name="wrecked",
            models_directory=tiny_model_dir,
            mnist=mnist,
        )
    assert sorted(path.name for path in tiny_model_dir.iterdir()) == before
