"""Estimates before the click: the pace and fixed costs of runs this machine finished, the expected
accuracy and where it comes from, the time left."""

import pytest

from digitcore import estimates
from digitcore.architectures import get_preset
from digitcore.cards import ModelCard
from digitcore.run_plan import RunPlan


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
    timings=None,
    **extra,
):
    timings = timings or {}
    recipe = {**get_preset("digitnet").fast_recipe.watched().to_dict(), "epochs": epochs, "batch_size": batch_size}
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
                **timings,
            },
        }
    )


AUGMENTED = {"rotation_degrees": 10.0, "shift": 0.1, "zoom": 0.1, "thickness": 0.3, "barred_sevens": 0.0}
TIMED = {"setup_seconds": 9.0, "first_call_seconds": 4.0, "validation_seconds": 6.0, "validation_digits": 30000}
FAST = get_preset("digitnet").fast_recipe.watched()


def test_the_pace_leaves_out_the_first_call_and_the_validations():
    # 57,000 digits in 100 s, of which 4 s compiling and 6 s validating: 633 digits per second of fitting
    (run,) = estimates.past_runs([_card("mine", examples=57000, timings=TIMED)])
    assert run.steady_digits_per_second == pytest.approx(57000 / 90)
    pace = estimates.pace_for([run], "digitnet", FAST.to_dict())
    assert (pace.setup_seconds, pace.first_call_seconds, pace.validation_digits_per_second) == (9.0, 4.0, 5000.0)


def test_a_short_run_of_many_epochs_and_a_long_run_of_one_share_a_pace():
    # Ten epochs of 5,700 digits and one epoch of 57,000 fit as many digits at the same pace; what
    # differs is what their ten validation points read (every epoch's end is a full one).
    ten = RunPlan(epochs=10, fitted=5700, held_out=300, batch_size=256)
    one = RunPlan(epochs=1, fitted=57000, held_out=3000, batch_size=256)
    assert ten.validation_points == one.validation_points == 10
    pace = estimates.Pace(2000.0, 256, "none", "a run")
    short, long = (estimates.estimate(pace, plan, FAST.to_dict()).seconds for plan in (ten, one))
    fixed = pace.setup_seconds + pace.first_call_seconds + pace.finish_seconds
    assert short - fixed == pytest.approx(57000 / 2000 + ten.validation_digits / pace.validation_digits_per_second)
    assert long - fixed == pytest.approx(57000 / 2000 + one.validation_digits / pace.validation_digits_per_second)
    assert ten.validation_digits == 10 * (5000 + 300) and one.validation_digits == 5000 + 3000 + 9 * (512 + 1000)


def test_the_pace_comes_from_the_most_similar_run_of_the_architecture():
    runs = estimates.past_runs(
        [
            _card("fast256", seconds=30.0, created_at="2026-11-20T10:00:00"),
            _card("full", seconds=900.0, epochs=10, batch_size=128, augmentation=AUGMENTED),
            _card("small_batch", seconds=50.0, batch_size=64, created_at="2026-11-24T10:00:00"),
            _card("other", "larger_cnn", seconds=10.0),
        ]
    )
    assert estimates.pace_for(runs, "digitnet", FAST.to_dict()).measured_by.endswith("fast256")
    augmented = {**FAST.to_dict(), "batch_size": 128, "augmentation": AUGMENTED}
    assert estimates.pace_for(runs, "digitnet", augmented).measured_by.endswith(" full")
    assert estimates.pace_for(runs, "bn_cnn", FAST.to_dict()) is None


@pytest.mark.parametrize(
    "progress, seconds, since, planned, left",
    [
        (0.01, 5.0, 0.0, None, None),  # too early to tell, nothing planned
        (0.5, 30.0, 0.0, None, 30.0 + estimates.FINISH_SECONDS),  # half-way: as long again
        (0.25, 10.0, 0.0, None, 30.0 + estimates.FINISH_SECONDS),
        (0.01, 5.0, 0.0, 40.0, 40.0),  # the estimate before the click, until the pace is known
        (0.61, 30.0, 0.01, 100.0, 30.0 * 0.39 / 0.6 + estimates.FINISH_SECONDS),  # its own pace after a tenth
    ],
)
def test_the_time_left_follows_the_jobs_own_pace(progress, seconds, since, planned, left):
    remaining = estimates.remaining_seconds(progress, seconds, since_progress=since, planned_left=planned)
    assert remaining == (None if left is None else pytest.approx(left))


@pytest.mark.parametrize(
    "seconds, text", [(3, "about 5 s"), (42, "about 40 s"), (200, "about 3 min"), (4300, "about 1 h 12 min")]
)
def test_durations_read_as_people_say_them(seconds, text):
    assert estimates.duration_text(seconds) == text


def test_the_expected_accuracy_is_the_range_of_runs_with_the_same_settings():
    preset = get_preset("digitnet")
    runs = estimates.past_runs([_card("a", accuracy=0.9915), _card("b", accuracy=0.9931)])
    expected = estimates.expected_accuracy(runs, preset, "fast", FAST.to_dict(), 60000)
    assert (expected.low, expected.high, expected.same_settings) == (0.9915, 0.9931, True)
    assert expected.text == "99.2–99.3 %" and expected.source.startswith("2 runs with these settings on 60,000 digits")
    assert expected.floor == pytest.approx(0.9915 - estimates.FAR_BELOW_SAME_SETTINGS)


def test_runs_from_before_an_augmentation_field_existed_share_the_settings_and_a_continued_run_is_left_out():
    preset = get_preset("digitnet")
    older = {key: value for key, value in FAST.to_dict()["augmentation"].items() if key != "flat_top_sixes"}
    # the first card was written before flat_top_sixes was a field: it drew none, as the recipe says
    runs = estimates.past_runs([_card("old", accuracy=0.9915, augmentation=older), _card("new", accuracy=0.9931)])
    expected = estimates.expected_accuracy(runs, preset, "fast", FAST.to_dict(), 60000)
    assert expected.source.startswith("2 runs with these settings")
    # a model trained on from another one says nothing about what the recipe reaches from scratch
    continued = _card("continued", accuracy=0.999)
    continued.training.extra["started_from"] = {"name": "digitnet", "sha256": "ab", "test_accuracy": 0.99}
    assert [run.source for run in estimates.past_runs([continued, _card("new")])] == ["the run that trained new"]


def test_a_subset_between_measured_ones_is_interpolated_and_outside_them_nothing_is_promised():
    preset = get_preset("digitnet")
    cards = [
        _card("on_1000", limit=1000, examples=950, epochs=60, accuracy=0.96),
        _card("on_10000", limit=10000, examples=9500, epochs=6, accuracy=0.98),
    ]
    runs = estimates.past_runs(cards)
    between = estimates.expected_accuracy(runs, preset, "fast", FAST.sized_for(3162).to_dict(), 3162)
    assert between.low == pytest.approx(0.97, abs=1e-3) and "between the runs of this recipe" in between.source
    assert estimates.expected_accuracy(runs, preset, "fast", FAST.sized_for(500).to_dict(), 500) is None
    assert estimates.expected_accuracy(runs, preset, "fast", FAST.sized_for(20000).to_dict(), 20000) is None


def test_changed_settings_are_held_to_the_recipe_only_loosely():
    preset = get_preset("digitnet")
    runs = estimates.past_runs([_card("a", accuracy=0.992)])
    changed = {**FAST.to_dict(), "learning_rate": 1.0}
    expected = estimates.expected_accuracy(runs, preset, "fast", changed, 60000)
    assert not expected.same_settings and "you changed them" in expected.source
    assert expected.floor == pytest.approx(0.992 - estimates.FAR_BELOW_CHANGED_SETTINGS)  # 9.79 % is far below


def test_the_shipped_measurements_cover_the_pages_recipes():
    runs = estimates.measured_runs()
    preset = get_preset("digitnet")
    for which, digits in (("fast", 60000), ("fast", 6000), ("fast995", 60000)):
        recipe = preset.recipes[which].watched().sized_for(digits).to_dict()
        expected = estimates.expected_accuracy(runs, preset, which, recipe, digits)
        assert expected is not None and expected.same_settings and 0.9 < expected.low <= expected.high < 1.0
        assert estimates.pace_for(runs, "digitnet", recipe) is not None
