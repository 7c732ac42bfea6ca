"""How a training run is laid out in steps: batches per compiled call, where the live curve's points
and the validation points fall, and how many digits those validations read. Pure arithmetic (no
Keras): training follows this plan and the Train page's estimate counts its costs from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Live curves: a point about every 2 % of a run's steps, so a 30-s run draws a curve you can watch;
# the held-out digits are scored at about VALIDATION_POINTS evenly spaced points of the run (every
# epoch's end among them; a run of that many epochs or more is scored at its epoch ends only).
CURVE_POINTS = 50
VALIDATION_POINTS = 10
# Each validation point re-estimates BatchNorm on training digits first, so the curve shows what the
# saved model would score. An epoch's end uses up to CALIBRATION_DIGITS and every held-out digit (it
# picks the weights kept); a point between epoch ends uses fewer: DigitNet's convolutional BatchNorm
# layers average thousands of positions per digit, so 512 digits give its statistics within noise
# at a fraction of the cost.
CALIBRATION_DIGITS = 5000
QUICK_CALIBRATION_DIGITS = 512
QUICK_VALIDATION_DIGITS = 1000
# Keras runs `steps_per_execution` batches per compiled call and calls callbacks (progress, curve
# points, the stop check) only between calls: at most this many digits per call keeps a stop within
# about half a second at DigitNet's pace here (about 2,000 digits per second on 2 cores), and at
# least CURVE_POINTS calls per run keep the curve's points apart.
DIGITS_PER_EXECUTION = 1024


def execution_steps(batch_size: int, total_steps: int) -> int:
    """Batches per compiled call for a run of `total_steps` batches of `batch_size` (1 to 16)."""
    return max(1, min(16, DIGITS_PER_EXECUTION // max(1, batch_size), total_steps // CURVE_POINTS))


def validation_checks(epochs: int, steps_per_epoch: int) -> list[int]:
    """The steps of each epoch (1-based, before its last) after which the held-out digits are scored,
    so that a run of few epochs is scored about VALIDATION_POINTS times in all."""
    checks_per_epoch = max(0, math.ceil(VALIDATION_POINTS / max(1, epochs)) - 1)
    steps = {round(k * steps_per_epoch / (checks_per_epoch + 1)) for k in range(1, checks_per_epoch + 1)}
    return sorted(step for step in steps if 0 < step < steps_per_epoch)


@dataclass(frozen=True)
class RunPlan:
    """A run of `epochs` over `fitted` digits in batches of `batch_size`, `held_out` digits scored."""

    epochs: int
    fitted: int
    held_out: int
    batch_size: int

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.fitted / max(1, self.batch_size))

    @property
    def validation_points(self) -> int:
        if not self.held_out:
            return 0
        return self.epochs * (1 + len(validation_checks(self.epochs, self.steps_per_epoch)))

    @property
    def validation_digits(self) -> int:
        """Digits read by all validation points: the calibration digits and the held-out ones."""
        if not self.held_out:
            return 0
        calibration = min(CALIBRATION_DIGITS, self.fitted)
        epoch_end = calibration + self.held_out
        between = min(QUICK_CALIBRATION_DIGITS, calibration) + min(QUICK_VALIDATION_DIGITS, self.held_out)
        checks = len(validation_checks(self.epochs, self.steps_per_epoch))
        return self.epochs * (epoch_end + checks * between)
