"""Tests for digitcore.augment_shapes: flat-topped sixes and looped threes drawn on training digits."""

import numpy as np
import pytest

from digitcore import augment_shapes


@pytest.fixture(scope="module")
def digits(mnist) -> tuple[np.ndarray, np.ndarray]:
    return mnist.x_test[:600], mnist.y_test[:600]


def test_the_pen_width_of_a_drawn_stroke_is_measured():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:15] = 255  # a stem 3 px wide
    assert augment_shapes.stroke_width(image) == 3
    image[10:12, 5:23] = 255  # and a bar 2 px thick across it
    assert augment_shapes.stroke_width(image) == pytest.approx(2.5, abs=0.6)


def test_sixes_get_a_bar_to_the_right_along_their_top_and_nothing_else_changes(digits):
    images, labels = digits
    flat = augment_shapes.flat_top_sixes(images, labels, 1.0, seed=0)
    changed = np.flatnonzero((flat != images).any(axis=(1, 2)))
    sixes = np.flatnonzero(labels == 6)
    assert set(changed) <= set(sixes) and len(changed) >= 0.9 * len(sixes)
    assert np.all(flat >= images)  # ink is only added
    for index in changed:
        added = (flat[index].astype(int) - images[index]) > 64
        ink_rows = np.flatnonzero(images[index].max(axis=1) > 64)
        top, height = ink_rows[0], ink_rows[-1] - ink_rows[0] + 1
        rows, cols = np.nonzero(added)
        top_left = np.flatnonzero(images[index][top] > 64).min()
        assert cols.max() - top_left >= 0.25 * height  # a bar reaching right from the top ...
        assert rows.max() <= top + 0.35 * height  # ... that stays near the top: flat
    half = augment_shapes.flat_top_sixes(images, labels, 0.5, seed=0)
    assert abs((half != images).any(axis=(1, 2)).sum() - 0.5 * len(sixes)) <= 2


def test_threes_curl_only_into_open_loops_and_nothing_else_changes(digits):
    images, labels = digits
    looped = augment_shapes.loop_threes(images, labels, 1.0, seed=0)
    changed = np.flatnonzero((looped != images).any(axis=(1, 2)))
    threes = np.flatnonzero(labels == 3)
    assert len(changed) > 0 and set(changed) <= set(threes)
    for index in changed:
        # a closed loop would make it an 8: the curl never closes one
        assert augment_shapes._holes(looped[index]) == augment_shapes._holes(images[index])
        added = (looped[index].astype(int) - images[index]) > 64
        ink_cols = np.flatnonzero(images[index].max(axis=0) > 64)
        assert np.nonzero(added)[1].min() <= ink_cols[0] + 0.5 * (ink_cols[-1] - ink_cols[0])  # on the left


def test_a_closed_loop_is_counted_and_an_open_hook_is_not():
    ring = np.zeros((28, 28), np.uint8)
    ring[6:22, 6:22] = 255
    ring[9:19, 9:19] = 0
    assert augment_shapes._holes(ring) == 1
    ring[12:16, 6:9] = 0  # cut the ring open on the left
    assert augment_shapes._holes(ring) == 0


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(digits, fraction):
    images, labels = digits
    with pytest.raises(ValueError, match="fraction must be in"):
        augment_shapes.flat_top_sixes(images, labels, fraction)
    with pytest.raises(ValueError, match="fraction must be in"):
        augment_shapes.loop_threes(images, labels, fraction)
