"""The array toolkit's fast paths (OpenCV, a sampled bracket for quantiles) give the very arrays and
numbers of their plain definitions, to the last bit: a speed-up must not change what is read."""

import cv2
import numpy as np
import pytest

from digitcore.reading import imageops, preprocess


def _masks(seed: int):
    """Random masks from speckle to nearly full, thin strips included, some grown into blobs."""
    rng = np.random.default_rng(seed)
    for _ in range(30):
        height, width = int(rng.integers(1, 70)), int(rng.integers(1, 90))
        mask = rng.random((height, width)) < rng.random()
        if rng.random() < 0.5:
            mask = imageops.max_filter(mask, 1) & (rng.random((height, width)) < 0.9)
        yield mask


def _label_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The definition: 8-connected horizontal runs joined row by row, components numbered in the order
    a row-by-row scan meets them (this was label_components before OpenCV did the work)."""
    height, width = mask.shape
    labels = np.zeros(mask.shape, dtype=np.int32)
    runs = []  # (row, start, end exclusive)
    for row in range(height):
        column = 0
        while column < width:
            if mask[row, column]:
                start = column
                while column < width and mask[row, column]:
                    column += 1
                runs.append((row, start, column))
            column += 1
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    in_row: dict[int, list[int]] = {}
    for i, (row, _, _) in enumerate(runs):
        in_row.setdefault(row, []).append(i)
    for i, (row, start, end) in enumerate(runs):
        for k in in_row.get(row - 1, []):
            if runs[k][1] <= end and start <= runs[k][2]:  # touching, diagonals too
                a, b = find(i), find(k)
                parent[max(a, b)] = min(a, b)
    numbers: dict[int, int] = {}
    sizes = [0]
    for i, (row, start, end) in enumerate(runs):
        root = find(i)
        if root not in numbers:
            numbers[root] = len(numbers) + 1
            sizes.append(0)
        labels[row, start:end] = numbers[root]
        sizes[numbers[root]] += end - start
    return labels, np.array(sizes, dtype=np.int64)


@pytest.mark.parametrize("seed", range(3))
def test_components_are_numbered_as_a_row_by_row_scan_meets_them(seed):
    for mask in _masks(seed):
        labels, sizes = imageops.label_components(mask)
        expected_labels, expected_sizes = _label_runs(mask)
        assert labels.dtype == np.int32 and sizes.dtype == np.int64
        assert np.array_equal(labels, expected_labels) and np.array_equal(sizes, expected_sizes)


def test_components_of_a_page_sized_mask():
    """Large enough for OpenCV to label stripes of rows in parallel and join them."""
    rng = np.random.default_rng(9)
    mask = imageops.max_filter(rng.random((480, 640)) < 0.08, 1) & (rng.random((480, 640)) < 0.7)
    labels, sizes = imageops.label_components(mask)
    expected_labels, expected_sizes = _label_runs(mask)
    assert np.array_equal(labels, expected_labels) and np.array_equal(sizes, expected_sizes)


def test_components_of_an_empty_mask():
    labels, sizes = imageops.label_components(np.zeros((5, 7), bool))
    assert not labels.any() and sizes.tolist() == [0]


def _max_filter_by_shifts(image: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(image, radius, mode="edge")
    height, width = image.shape
    side = 2 * radius + 1
    return np.max([padded[r : r + height, c : c + width] for r in range(side) for c in range(side)], axis=0)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.float32, np.float64])
def test_max_filter_is_the_maximum_over_each_square_with_the_edge_repeated(dtype):
    rng = np.random.default_rng(5)
    for height, width in [(1, 1), (1, 9), (7, 1), (13, 17)]:
        image = (rng.random((height, width)) * 200).astype(dtype)
        for radius in (1, 2, 3):
            result = imageops.max_filter(image, radius)
            assert result.dtype == image.dtype
            assert np.array_equal(result, _max_filter_by_shifts(image, radius))
    transposed = rng.random((9, 5)) < 0.3
    assert np.array_equal(imageops.max_filter(transposed.T, 1), _max_filter_by_shifts(transposed.T, 1))


@pytest.mark.parametrize("seed", range(2))
def test_stroke_width_is_twice_the_area_over_the_perimeter(seed):
    for mask in _masks(seed):
        inner = mask.copy()  # a pixel whose four neighbours are set (beyond the edge counts as set)
        inner[1:] &= mask[:-1]
        inner[:-1] &= mask[1:]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        area = float(mask.sum())
        assert imageops.stroke_width(mask) == 2.0 * area / max(1.0, area - float(inner.sum()))


def _arrays(seed: int):
    """Values as the pipelines make them (paper noise, half zeros, few levels) and ones a sample misreads."""
    rng = np.random.default_rng(seed)
    for size in (1, 2, 5, 4095, 4096, 4097, 30000, 172800):
        for dtype in (np.float32, np.float64):
            yield rng.normal(0.0, 0.02, size).astype(dtype)
            yield np.maximum(rng.normal(0.0, 0.3, size), 0.0).astype(dtype)  # ink: half exact zeros
            yield (np.round(rng.random(size) * 8) / 8).astype(dtype)  # ties at every rank
            yield np.exp(rng.random(size) * 30).astype(dtype)  # a long tail
            yield np.tile(rng.random(7), size)[:size].astype(dtype)  # periodic: a strided sample aliases
            spiked = rng.random(size).astype(dtype)
            spiked[:: max(1, size // imageops.SAMPLE)] = 5.0  # the sampled values all far from the rest
            yield spiked


@pytest.mark.parametrize("seed", range(2))
def test_median_and_percentile_are_numpys_to_the_last_bit(seed):
    for values in _arrays(seed):
        assert imageops.median(values) == float(np.median(values))
        for q in (0.0, 2.0, 25.0, 50.0, 99.95, 99.9999, 100.0):
            assert imageops.percentile(values, q) == float(np.percentile(values, q)), (values.size, q)


def test_median_of_a_channel_and_of_values_numpy_leaves_to_itself():
    colour = np.random.default_rng(2).random((200, 100, 3)).astype(np.float32)
    assert imageops.median(colour[..., 1]) == float(np.median(colour[..., 1]))  # a strided view
    with_nan = colour[..., 0].copy()
    with_nan[3, 3] = np.nan
    assert np.isnan(imageops.median(with_nan)) and np.isnan(imageops.percentile(with_nan, 50))
    whole_numbers = (colour[..., 2] * 255).astype(np.uint8)
    assert imageops.percentile(whole_numbers, 99.95) == float(np.percentile(whole_numbers, 99.95))


def test_luma_of_the_planes_is_the_luminance():
    colour = np.random.default_rng(3).random((9, 11, 3)).astype(np.float32)
    planes = [np.ascontiguousarray(colour[..., c]) for c in range(3)]
    assert np.array_equal(imageops.luma(*planes), imageops.luminance(colour))


def test_fit_and_centre_draws_steps_only_for_a_list_to_put_them_in(monkeypatch):
    ink = np.zeros((60, 40), np.float32)
    ink[10:50, 18:23] = 1.0  # a 1
    ink[10:14, 12:23] = 1.0  # with a flag
    drawn = []
    monkeypatch.setattr(preprocess, "_to_step_image", lambda image, **_: drawn.append(image) or image)
    alone = preprocess.fit_and_centre(ink, ink > 0.5)
    assert not drawn
    steps: list[preprocess.Step] = []
    shown = preprocess.fit_and_centre(ink, ink > 0.5, steps)
    assert [step.name for step in steps] == ["ink_box", "fit", "centre"] and len(drawn) == 3
    assert np.array_equal(alone, shown)


def _same_components(mask: np.ndarray) -> None:
    expected = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    found = imageops.components_with_stats(mask)
    assert found[0] == expected[0]
    for array, reference in zip(found[1:], expected[1:]):
        assert array.dtype == reference.dtype and array.shape == reference.shape
        assert array.tobytes() == reference.tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_components_with_stats_are_opencvs_to_the_last_bit(seed):
    for mask in _masks(seed):
        _same_components(mask)
        _same_components(mask.astype(np.uint8))
    for shape in [(1, 1), (1, 9), (7, 1), (6, 8)]:
        _same_components(np.zeros(shape, bool))
        _same_components(np.ones(shape, bool))
    full_rows = np.zeros((9, 12), bool)
    full_rows[:3] = full_rows[:, -2:] = True  # the background's box starts below the marks and ends before them
    _same_components(full_rows)
    rng = np.random.default_rng(seed)
    page = imageops.max_filter(rng.random((480, 640)) < 0.01, 2) & (rng.random((480, 640)) < 0.8)
    _same_components(page)  # large enough for OpenCV to label stripes of rows in parallel
    _same_components(np.ascontiguousarray(page.T)[::2])  # a view with strides of its own
