"""Image operations on numpy arrays (no SciPy or OpenCV in this project): filters, resizing, components.

Pure functions of arrays, shared by the preprocessing pipelines; nothing here knows about digits.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def luminance(colour: np.ndarray) -> np.ndarray:
    """(h, w, c) -> (h, w) ITU-R 601 luma, as Pillow's convert("L")."""
    if colour.shape[-1] == 1:
        return colour[..., 0]
    return colour[..., 0] * 0.299 + colour[..., 1] * 0.587 + colour[..., 2] * 0.114


def max_filter(image: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation with a (2r+1) square, separable."""
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
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize((width, height), resample))


def label_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components of a boolean mask: labels (h, w) int32 (0 = background, 1..n) and sizes (n+1,).

    Works on horizontal runs, so the Python loop is over runs, not pixels.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    start_rows, start_cols = np.nonzero(change == 1)
    end_rows, end_cols = np.nonzero(change == -1)  # end column is exclusive
    count = len(start_rows)
    labels = np.zeros(mask.shape, dtype=np.int32)
    if count == 0:
        return labels, np.zeros(1, dtype=np.int64)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_starts = np.searchsorted(start_rows, np.arange(height + 1))
    starts, ends = start_cols.tolist(), end_cols.tolist()
    for row in range(1, height):
        above, above_end = row_starts[row - 1], row_starts[row]
        here, here_end = row_starts[row], row_starts[row + 1]
        j = above
        for i in range(here, here_end):
            # runs above that overlap run i, diagonals included
            while j < above_end and ends[j] < starts[i]:
                j += 1
            k = j
            while k < above_end and starts[k] <= ends[i]:
                root_i, root_k = find(i), find(k)
                if root_i != root_k:
                    parent[max(root_i, root_k)] = min(root_i, root_k)
                k += 1
    roots = np.array([find(i) for i in range(count)])
    _, run_labels = np.unique(roots, return_inverse=True)
    run_labels = run_labels + 1
    for run in range(count):  # paint runs; cheap for the few hundred runs of a digit
        labels[start_rows[run], starts[run] : ends[run]] = run_labels[run]
    sizes = np.bincount(run_labels, weights=end_cols - start_cols, minlength=run_labels.max() + 1)
    return labels, sizes.astype(np.int64)


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
    """Mean stroke width in pixels: twice the area over the perimeter."""
    area = float(mask.sum())
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    perimeter = max(1.0, area - float(inner.sum()))
    return 2.0 * area / perimeter


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
