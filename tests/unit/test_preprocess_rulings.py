"""One-digit reading of photos on ruled paper: rulings photographed at a tilt or bent are removed
(by the page stage's ruling finder), so the model input matches the digit on plain paper."""

import numpy as np
import pytest
from test_reading import digit_ink, number_page, on_paper, ruled

from digitcore.reading import preprocess


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("angle, bend", [(5.0, 0.0), (-7.0, 0.0), (2.0, 6.0)])
def test_a_digit_on_tilted_or_bent_rulings_reads_as_on_plain_paper(mnist, angle, bend):
    for index in (0, 2, 3):  # a 7, a 1 and a 0
        ink = number_page([digit_ink(mnist.x_test[index], height=90)], size=(260, 200))
        plain = preprocess.to_mnist(on_paper(ink), kind="photo").image
        lined = preprocess.to_mnist(ruled(on_paper(ink), spacing=40, angle=angle, bend=bend), kind="photo").image
        assert _similarity(plain, lined) > 0.9, f"digit {index}: the rulings changed the model input"


def test_the_steps_show_the_rulings_removed(mnist):
    ink = number_page([digit_ink(mnist.x_test[0], height=90)], size=(260, 200))
    steps = preprocess.to_mnist(ruled(on_paper(ink), spacing=40, angle=6.0), kind="photo").steps
    assert "lines" in [step.name for step in steps]
