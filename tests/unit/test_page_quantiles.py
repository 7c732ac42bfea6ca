"""The page stage's threshold takes its quantiles from a histogram first (for speed): they must be
exactly what np.quantile gives, on any values in [0, 1], ties and all."""

import numpy as np
import pytest

from digitcore.reading.page import _quantiles


@pytest.mark.parametrize("seed", range(6))
def test_quantiles_from_a_histogram_are_those_of_numpy(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        size = int(rng.integers(1, 6000))
        values = (rng.random(size, dtype=np.float32) ** int(rng.integers(1, 8))).reshape(1, -1)
        if rng.random() < 0.4:
            values[rng.random(values.shape) < 0.6] = 0.0  # paper: many exact zeros
        if rng.random() < 0.3:
            values = np.round(values * 8) / 8  # few distinct values: ranks fall in ties
        shares = (0.0, 0.5, 0.999, 1.0)
        expected = [float(np.quantile(values.astype(np.float64), share)) for share in shares]
        assert _quantiles(values, shares) == pytest.approx(expected, abs=1e-7)
