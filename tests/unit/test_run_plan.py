"""How a run is laid out: batches per compiled call (how soon a stop is seen) and where the curve's
validation points fall."""

import pytest

from digitcore import run_plan
from digitcore.run_plan import RunPlan


@pytest.mark.parametrize(
    "batch_size, total_steps, steps",
    [
        (256, 223, 4),  # the default click: a stop is seen within 1,024 digits, about 50 points
        (64, 2673, 16),  # fast995: 1,024 digits per call
        (128, 40 * 469, 8),
        (190, 100, 2),  # a tiny subset: at least 50 calls
        (256, 30, 1),
    ],
)
def test_a_compiled_call_fits_at_most_1024_digits_and_a_run_has_about_50_calls(batch_size, total_steps, steps):
    assert run_plan.execution_steps(batch_size, total_steps) == steps


@pytest.mark.parametrize(
    "epochs, steps_per_epoch, points",
    [(1, 223, 10), (3, 891, 12), (10, 23, 10), (40, 469, 40), (1, 1, 1), (2, 3, 6)],
)
def test_a_run_is_validated_about_ten_times_and_at_every_epochs_end(epochs, steps_per_epoch, points):
    plan = RunPlan(epochs=epochs, fitted=steps_per_epoch * 256, held_out=100, batch_size=256)
    assert plan.validation_points == points
    checks = run_plan.validation_checks(epochs, steps_per_epoch)
    assert all(0 < step < steps_per_epoch for step in checks) and checks == sorted(set(checks))


def test_nothing_held_out_means_no_validation_points():
    assert RunPlan(epochs=1, fitted=2, held_out=0, batch_size=2).validation_points == 0
