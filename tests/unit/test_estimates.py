"""Estimates before the click: the pace of runs this machine finished, expected accuracy, time left."""

import pytest

from digitcore import estimates
from digitcore.architectures import get_preset
from digitcore.cards import ModelCard


def _card(
    name,
    architecture="digitnet",
    *,
    seconds=100.0,
    examples=60000,
    epochs=1,
    batch_size=256,
    augmentation=None,
    limit=None,
    accuracy=0.99,
    created_at="2026-11-23T10:00:00",
    **extra,
):
    recipe = {**get_preset("digitnet").fast_recipe.to_dict(), "epochs": epochs, "batch_size": batch_size}
    if augmentation is not None:
        recipe["augmentation"] = augmentation
    return ModelCard.from_dict(
        {
            "name": name,
            "architecture": architecture,
            "test_accuracy": accuracy,
            "created_at": created_at,
            **extra,
            "training": {
                "seconds": seconds,
                "train_examples": examples,
                "epochs_completed": epochs,
                "limit": limit,
                "recipe": recipe,
            },
        }
    )


AUGMENTED = {"rotation_degrees": 10.0, "shift": 0.1, "zoom": 0.1, "thickness": 0.3, "barred_sevens": 0.0}


def test_the_pace_comes_from_the_most_similar_finished_run_of_the_architecture():
    cards = [
        _card("full", seconds=800.0, epochs=40, batch_size=128, augmentation=AUGMENTED),  # 3,000 digits/s
        _card("fast_old", seconds=40.0, created_at="2026-11-22T10:00:00"),  # 1,500 digits/s, older
        _card("fast_new", seconds=30.0),  # 2,000 digits/s: same batch and augmentation, newest
        _card("other", architecture="bn_cnn", seconds=1.0),  # another architecture
        _card("child", seconds=1.0, parent="fast_new"),  # a fine-tune is not a training run
    ]
    pace = estimates.pace_from_cards(cards, "digitnet", batch_size=256, augmented=False)
    assert pace.measured_by == "the run that trained fast_new" and pace.digits_per_second == pytest.approx(2000)
    assert estimates.pace_from_cards(cards, "digitnet", batch_size=128, augmented=True).measured_by.endswith(" full")
    assert estimates.pace_from_cards(cards, "larger_cnn", batch_size=200, augmented=False) is None


def test_a_run_of_another_shape_gives_way_to_the_pace_recorded_with_the_recipe():
    preset = get_preset("digitnet")
    full = _card("full", seconds=2800.0, epochs=40, batch_size=128, augmentation=AUGMENTED)  # 857 digits/s
    pace = estimates.pace_for([full], preset, "fast", batch_size=256, augmented=False)
    assert pace.digits_per_second == preset.fast_recipe_measured.digits_per_second  # not the augmented run's
    fast_here = _card("fast_here", seconds=30.0)  # the same shape, run here: it wins
    pace = estimates.pace_for([full, fast_here], preset, "fast", batch_size=256, augmented=False)
    assert pace.measured_by == "the run that trained fast_here"
    # a recipe with no recorded pace falls back to the closest run here
    assert estimates.pace_for([full], preset, "default", batch_size=128, augmented=True).measured_by.endswith(" full")
    assert estimates.pace_for([], get_preset("larger_cnn"), "default", batch_size=200, augmented=False) is None


def test_an_estimate_counts_the_digits_fitted_and_the_fixed_costs():
    pace = estimates.Pace(2000.0, 256, False, "fast_new")
    guess = estimates.estimate(
        pace, epochs=1, training_digits=60000, validation_split=0.05, batch_size=256, augmented=False
    )
    assert guess.seconds == pytest.approx(estimates.START_SECONDS + 57000 / 2000 + estimates.FINISH_SECONDS)
    assert guess.same_setup
    assert not estimates.estimate(
        pace, epochs=1, training_digits=60000, validation_split=0.0, batch_size=64, augmented=False
    ).same_setup


@pytest.mark.parametrize(
    "progress, seconds, left",
    [
        (0.01, 1.0, None),  # too early to tell
        (0.5, 20.0, 20.0 + estimates.FINISH_SECONDS),  # halfway after 20 s
        (1.0, 40.0, estimates.FINISH_SECONDS),  # only scoring and saving left
    ],
)
def test_the_time_left_follows_the_jobs_own_pace(progress, seconds, left):
    assert estimates.remaining_seconds(progress, seconds) == (None if left is None else pytest.approx(left))


@pytest.mark.parametrize(
    "seconds, text", [(3, "about 5 s"), (42, "about 40 s"), (600, "about 10 min"), (4000, "about 1 h 07 min")]
)
def test_durations_read_as_people_say_them(seconds, text):
    assert estimates.duration_text(seconds) == text


def test_the_expected_accuracy_names_where_it_comes_from():
    preset = get_preset("digitnet")
    fast = preset.fast_recipe.watched()
    shipped = _card("digitnet", epochs=40, batch_size=128, augmentation=AUGMENTED, accuracy=0.996)
    expected = estimates.expected_accuracy([shipped], preset, "fast", fast, 60000)
    assert expected.accuracy == preset.fast_recipe_measured.test_accuracy and "measured" in expected.source
    mine = _card("my_digitnet", accuracy=0.9931)  # the fast recipe, run here
    assert estimates.expected_accuracy([shipped, mine], preset, "fast", fast, 60000).accuracy == 0.9931
    six_thousand = fast.with_overrides(epochs=10)
    expected = estimates.expected_accuracy([shipped], preset, "fast", six_thousand, 6000)
    assert expected.accuracy == 0.996 and "your settings differ" in expected.source
    assert estimates.expected_accuracy([], preset, "fast", six_thousand, 6000) is None
