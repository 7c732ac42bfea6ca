"""Image operations on numpy arrays: filters, resizing, components, quantiles.

Pure functions of arrays, shared by the preprocessing pipelines; nothing here knows about digits.
Where OpenCV or a sample does the work, the result is the very array (or number) the plain numpy
definition gives, to the last bit: a speed-up must not change what is read.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SMALL = 4096  # a median or percentile of fewer values than this is numpy's own: nothing to gain
SAMPLE = 4096  # ... of more, first in a sample of about this many values (see ranked)
SAMPLE_ERRORS = 4.0  # ... bracketing the rank by this many standard errors of the sample's quantile
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))  # a pixel and its four neighbours
_CV_MORPHOLOGY = (np.dtype(bool), np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))  # dilate's dtypes


def luminance(colour: np.ndarray) -> np.ndarray:
    """(h, w, c) -> (h, w) ITU-R 601 luma, as Pillow's convert("L")."""
    if colour.shape[-1] == 1:
        return colour[..., 0]
    return luma(colour[..., 0], colour[..., 1], colour[..., 2])


def luma(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """The luminance of three channel planes: for channels a pipeline keeps apart (numpy is slow
    along a last axis of 3)."""
    if not (
        isinstance(red, np.ndarray)
        and red.dtype == green.dtype == blue.dtype
        and red.shape == green.shape == blue.shape
    ):
        return red * 0.299 + green * 0.587 + blue * 0.114
    # the same sums in the same order, added into the first product: two picture-sized arrays fewer
    total = red * 0.299
    total += green * 0.587
    total += blue * 0.114
    return total


def max_filter(image: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation with a (2r+1) square, the picture's edge repeated outwards (a mask stays a mask).

    OpenCV's dilation with a replicated border takes the maximum over exactly the same pixels as
    shifted copies of an edge-padded array do, and a maximum rounds nothing: the same array."""
    if image.ndim == 2 and radius >= 1 and image.dtype in _CV_MORPHOLOGY:
        kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
        pixels = np.ascontiguousarray(image)
        if image.dtype == bool:
            return cv2.dilate(pixels.view(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE).view(bool)
        return cv2.dilate(pixels, kernel, borderType=cv2.BORDER_REPLICATE)
    out = image
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        length = out.shape[axis]
        result = padded.take(range(0, length), axis=axis)
        for offset in range(1, 2 * radius + 1):
            result = np.maximum(result, padded.take(range(offset, offset + length), axis=axis))
        out = result
    return out


def box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1) square, with edge padding (separable sums of shifted copies: for the
    small radii used here this is many times faster than cumulative sums in float64)."""
    size = 2 * radius + 1
    height, width = image.shape
    padded = np.pad(image.astype(np.float32), radius, mode="edge")
    rows = padded[0:height].copy()
    for offset in range(1, size):
        rows += padded[offset : offset + height]
    total = rows[:, 0:width].copy()
    for offset in range(1, size):
        total += rows[:, offset : offset + width]
    return total / np.float32(size * size)


def resize(image: np.ndarray, width: int, height: int, resample=Image.Resampling.BOX) -> np.ndarray:
    """Resize a float (h, w) array with Pillow's float mode."""
    pixels = np.ascontiguousarray(image, dtype=np.float32)  # (a copy only when it is not that already)
    return np.asarray(Image.fromarray(pixels, mode="F").resize((width, height), resample))


def label_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components of a boolean mask: labels (h, w) int32 (0 = background, 1..n) and sizes
    (n+1,) int64 (sizes[0] = 0), the components numbered in the order a row-by-row scan meets their
    first pixel.

    OpenCV's SAUF scan (Wu's algorithm) numbers them so: it opens a provisional label at a
    component's first pixel, before any other of its labels, and joined labels keep the smallest.
    (OpenCV's default block-based scan opens labels two rows at a time, in another order.)
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        np.ascontiguousarray(mask, dtype=bool).view(np.uint8), 8, cv2.CV_32S, cv2.CCL_WU
    )
    sizes = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    sizes[0] = 0
    return labels, sizes


def components_with_stats(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """cv2.connectedComponentsWithStats(mask as uint8, connectivity=8): the count, labels, stats and
    centroids, the very same arrays, in a fraction of the time on a page.

    OpenCV's statistics visit every pixel, the background's too (about a millisecond on a 640x480
    page, for a few thousand pixels of marks). The labels here come from the same labelling without
    statistics (cv2.connectedComponents, the same algorithm), the marks' statistics from their own
    pixels, and the background's (label 0) from the number of marks in each row and column. The
    centroids are the sums of whole pixel coordinates over the area, as OpenCV divides them.
    """
    pixels = (
        np.ascontiguousarray(mask, dtype=np.uint8) if mask.dtype != bool else np.ascontiguousarray(mask).view(np.uint8)
    )
    points = cv2.findNonZero(pixels)
    if points is None or len(points) == pixels.size:  # no background or no marks: nothing to gain
        count, labels, stats, centroids = cv2.connectedComponentsWithStats(pixels, connectivity=8)
        return count, labels, stats, centroids
    count, labels = cv2.connectedComponents(pixels, connectivity=8)
    height, width = pixels.shape
    cols, rows = points[:, 0, 0], points[:, 0, 1]
    which = labels[rows, cols]
    area = np.bincount(which, minlength=count)
    left, top = np.full(count, width, np.int32), np.full(count, height, np.int32)
    right, bottom = np.full(count, -1, np.int32), np.full(count, -1, np.int32)
    np.minimum.at(left, which, cols)
    np.minimum.at(top, which, rows)
    np.maximum.at(right, which, cols)
    np.maximum.at(bottom, which, rows)
    sum_x = np.bincount(which, weights=cols, minlength=count)
    sum_y = np.bincount(which, weights=rows, minlength=count)
    # the background: the rows and columns not full of marks, and the pixels not marks
    open_rows = np.flatnonzero(np.bincount(rows, minlength=height) < width)
    open_cols = np.flatnonzero(np.bincount(cols, minlength=width) < height)
    left[0], top[0], right[0], bottom[0] = open_cols[0], open_rows[0], open_cols[-1], open_rows[-1]
    area[0] = pixels.size - len(points)
    sum_x[0] = float(height) * (width - 1) * width / 2 - float(sum_x[1:].sum())  # whole numbers: exact
    sum_y[0] = float(width) * (height - 1) * height / 2 - float(sum_y[1:].sum())
    stats = np.stack([left, top, right - left + 1, bottom - top + 1, area.astype(np.int32)], axis=1)
    centroids = np.stack([sum_x / area, sum_y / area], axis=1)
    return count, labels, stats, centroids


def median_of_rows(values: np.ndarray) -> np.ndarray:
    """np.median over the last axis, the same numbers, several times faster for many short rows.

    np.median partitions around both middle elements of an even row; partitioning around the
    upper one is enough: the lower one is then the largest of the elements before it.
    """
    middle = values.shape[-1] // 2
    parted = np.partition(values, middle, axis=-1)
    if values.shape[-1] % 2:
        return parted[..., middle]
    return (parted[..., :middle].max(axis=-1) + parted[..., middle]) / values.dtype.type(2)


def border(values: np.ndarray) -> np.ndarray:
    """The pixels of a frame 2% wide (at least one pixel) around the image, (n, ...)."""
    height, width = values.shape[:2]
    band = max(1, round(0.02 * min(height, width)))
    return np.concatenate(
        [
            values[:band].reshape(-1, *values.shape[2:]),
            values[-band:].reshape(-1, *values.shape[2:]),
            values[:, :band].reshape(-1, *values.shape[2:]),
            values[:, -band:].reshape(-1, *values.shape[2:]),
        ]
    )


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the area over the perimeter (the pixels with one of their
    four neighbours off the mask; beyond the picture's edge counts as on it)."""
    pixels = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    area = float(cv2.countNonZero(pixels))
    # an erosion by a cross with the edge repeated: a pixel stays when its four neighbours are set,
    # a neighbour beyond the edge being the pixel itself
    inner = cv2.erode(pixels, _CROSS, borderType=cv2.BORDER_REPLICATE)
    perimeter = max(1.0, area - float(cv2.countNonZero(inner)))
    return 2.0 * area / perimeter


def median(values: np.ndarray) -> float:
    """np.median(values), the same number, without partitioning every value of a large float array.

    np.median of just the middle value (or the two middle values) gives their mean exactly as
    np.median of all the values does.
    """
    flat = np.asarray(values).reshape(-1)
    middle = flat.size // 2
    middles = ranked(flat, (middle,) if flat.size % 2 else (middle - 1, middle))
    if middles is None:
        return float(np.median(flat))
    return float(np.median(np.array(middles, dtype=flat.dtype)))


def percentile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, q) (linear interpolation, q below 100), the same number, without
    partitioning every value of a large float array.

    np.quantile of just the two values numpy interpolates between, at the same fraction, rounds
    exactly as np.percentile of all the values does.
    """
    flat = np.asarray(values).reshape(-1)
    place = (flat.size - 1) * float(np.true_divide(q, 100))  # numpy's virtual index
    below = int(np.floor(place)) if 0.0 <= place < flat.size - 1 else -1
    pair = ranked(flat, (below, below + 1)) if below >= 0 else None
    if pair is None:
        return float(np.percentile(flat, q))
    return float(np.quantile(np.array(pair, dtype=flat.dtype), place - below))


def ranked(flat: np.ndarray, ranks: tuple[int, ...]) -> list | None:
    """The values at these neighbouring ranks (0: the smallest) of a sort of `flat`, as numpy scalars
    of its dtype; None when numpy's own sort should answer (few values, not floats, NaN or infinity
    among them, or a sample that missed).

    A sorted sample of about SAMPLE values brackets the ranks between two of its values, SAMPLE_ERRORS
    standard errors of a sample quantile either side; one pass counts the values below the bracket
    and picks those inside it, and only those few are partitioned. The count says whether the bracket
    holds the ranks, so the answer is exact either way (a miss, rare, costs numpy's sort as well).
    """
    size = flat.size
    if size < SMALL or flat.dtype.kind != "f" or not np.isfinite(flat.min() + flat.max()):
        return None
    sample = np.sort(flat[:: max(1, size // SAMPLE)])
    share = ranks[0] / size
    margin = int(SAMPLE_ERRORS * np.sqrt(len(sample) * share * (1.0 - share))) + 8
    first = int(share * len(sample)) - margin
    last = int(ranks[-1] / size * len(sample)) + margin + 1
    inside = np.ones(size, dtype=bool) if first < 0 else flat >= sample[first]
    before = size - int(np.count_nonzero(inside))  # the values below the bracket
    if last < len(sample):
        inside &= flat <= sample[last]
    chosen = np.compress(inside, flat)  # flat[inside], several times faster when much is inside
    if not before <= ranks[0] or not ranks[-1] < before + chosen.size:
        return None
    places = [rank - before for rank in ranks]
    parted = np.partition(chosen, places)
    return [parted[place] for place in places]


def trim(image: np.ndarray) -> np.ndarray:
    rows = np.nonzero(image.max(axis=1) > 0.05)[0]
    cols = np.nonzero(image.max(axis=0) > 0.05)[0]
    if len(rows) == 0:
        return image
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """The pixels of `mask` that lie in a horizontal run of at least `length` pixels (an opening
    with a 1 x length line: an erosion, then a dilation, each in log2(length) shifted ANDs or ORs)."""
    width = mask.shape[1]
    if length > width:
        return np.zeros_like(mask)
    # full[:, x]: mask[:, x : x + length] is all set. Windows of `span` pixels double each step;
    # the last step overlaps two windows to reach exactly `length`.
    full = mask.astype(bool, copy=True)
    for shift in _doubling_shifts(length):
        full[:, :-shift] &= full[:, shift:]
        full[:, -shift:] = False
    # covered[:, x]: a full window starts somewhere in [x - length + 1, x]
    covered = full
    for shift in _doubling_shifts(length):
        covered[:, shift:] |= covered[:, :-shift].copy()
    return covered & mask


def _doubling_shifts(length: int) -> list[int]:
    """Shifts that grow a one-pixel window to `length` pixels: 1, 2, 4, ... and the overlap to finish."""
    shifts, span = [], 1
    while span * 2 <= length:
        shifts.append(span)
        span *= 2
    if span < length:
        shifts.append(length - span)
    return shifts


def vertical_run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each set pixel, the length of the vertical run of set pixels it belongs to (0 elsewhere)."""
    height, width = mask.shape
    columns = np.pad(mask.T, ((0, 0), (1, 1))).astype(np.int8).ravel()  # column after column, 0-separated
    change = np.diff(columns)
    starts, ends = np.nonzero(change == 1)[0], np.nonzero(change == -1)[0]
    lengths = np.zeros(columns.size, dtype=np.int32)
    marks = np.zeros(columns.size + 1, dtype=np.int32)
    np.add.at(marks, starts + 1, 1)  # run k starts at index starts[k] + 1 of `columns`
    run_id = np.cumsum(marks[:-1]) - 1
    inside = columns.astype(bool)
    lengths[inside] = (ends - starts)[run_id[inside]]
    return lengths.reshape(width, height + 2)[:, 1:-1].T
