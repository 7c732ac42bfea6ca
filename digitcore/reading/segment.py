"""Cutting a page's ink into digits: group the strokes of one digit, split touching digits, order rows.

Works on a PageInk (digitcore.reading.page) and knows nothing of the model: where a split is
ambiguous it returns the options, and the number reader lets the model choose among them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitcore.reading.imageops import components_with_stats
from digitcore.reading.page import Box, PageInk

SAME_DIGIT_OVERLAP = 0.5  # marks sharing this much of the narrower one's columns are parts of one digit ...
SAME_DIGIT_GAP = 0.35  # ... when the gap between them is under this fraction of the digits' height
SPECK_HEIGHT = 0.3  # a glyph lower than this fraction of the digits' height is a speck, a dot, a dash, an underline
ROW_HEIGHT = 0.5  # a row whose glyphs are lower than this fraction of the tallest row's is stray marks, not digits
ROW_OVERLAP = 0.5  # a glyph sharing this much of the lower one's height with its left neighbour is in its row
ROW_EDGE = 0.1  # a small mark whose middle lies within this share of a row's height from its top or bottom is not in it
WIDE = 0.8  # a glyph wider than this many digit heights may be two (or more) touching digits
PART_HEIGHT = 0.6  # every piece a split makes is at least this fraction of the row's digit height
SPLITS_TRIED = 5  # split columns tried per cut (the deepest minima of the column ink)
JOIN_GAP = 0.1  # two glyphs side by side this close (a fraction of the digits' height), or overlapping, ...
JOIN_WIDTH = 1.0  # ... and together at most this many digit heights wide may be the pieces of one digit


@dataclass
class Glyph:
    """The ink of one digit (or of a group that may hold several touching digits), in working pixels."""

    box: Box  # in the PageInk's working pixels
    ink: np.ndarray  # float32 (box.h, box.w): this glyph's ink only (other glyphs' ink inside the box is 0)
    mask: np.ndarray  # bool (box.h, box.w)


@dataclass
class SplitOption:
    """One way to read a glyph: as the digits `parts`, left to right (one part: not split)."""

    parts: list[Glyph]


def find_glyphs(page: PageInk) -> list[Glyph]:
    """The page's ink grouped into glyphs: strokes that belong together joined (a 5 whose flag does not
    touch, a 4 in two strokes, a dotted line), specks and stray marks dropped. Not yet split or ordered.

    Two marks are one digit when one lies over the other (they share most of the narrower one's
    columns) and the gap between them is small against the digits' height: digits of a number sit
    side by side, the parts of one digit above each other. Rows are never joined this way, as the
    gap between two rows is larger than the gap inside a digit.
    """
    count, labels, stats, _ = components_with_stats(page.mask)
    boxes = [
        [
            int(stats[i, cv2.CC_STAT_LEFT]),
            int(stats[i, cv2.CC_STAT_TOP]),
            int(stats[i, cv2.CC_STAT_WIDTH]),
            int(stats[i, cv2.CC_STAT_HEIGHT]),
        ]
        for i in range(1, count)
    ]
    if not boxes:
        return []
    members = [[i + 1] for i in range(len(boxes))]
    height = _typical_height(boxes, stats[1:, cv2.CC_STAT_AREA])
    merged = True
    while merged:  # join pairs until nothing joins (a few rounds: digits have few parts)
        merged = False
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                if _same_digit(boxes[a], boxes[b], height):
                    boxes[a] = _union(boxes[a], boxes[b])
                    members[a] += members[b]
                    del boxes[b], members[b]
                    merged = True
                    break
            if merged:
                break
    glyphs = []
    for (x, y, w, h), labels_in in zip(boxes, members):
        if h < SPECK_HEIGHT * height:
            continue  # a speck, a dot, a dash between digit groups, a line under the number: not a digit
        window = labels[y : y + h, x : x + w]
        mask = np.isin(window, labels_in)
        glyphs.append(
            Glyph(Box(x, y, w, h), np.where(mask, page.ink[y : y + h, x : x + w], 0.0).astype(np.float32), mask)
        )
    return glyphs


def _typical_height(boxes: list[list[int]], areas: np.ndarray) -> float:
    """The height of the page's digits: the median height of the marks, each counted by its ink.

    Weighted by ink, the digits decide it: pieces of a digit that a ruling cut, a dot, a dash or a
    stray mark are many marks but little ink, and an unweighted median of a short number with such
    marks is the height of the pieces (the parts of a digit then look too tall to be one).
    """
    heights = np.array([box[3] for box in boxes], dtype=np.float64)
    order = np.argsort(heights, kind="stable")
    cumulative = np.cumsum(areas[order].astype(np.float64))
    return float(heights[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _same_digit(a: list[int], b: list[int], height: float) -> bool:
    overlap = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    gap = max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])
    joined_height = max(a[1] + a[3], b[1] + b[3]) - min(a[1], b[1])
    return (
        overlap >= SAME_DIGIT_OVERLAP * min(a[2], b[2])
        and gap <= SAME_DIGIT_GAP * height
        and joined_height <= 1.5 * height  # never two digits stacked in two rows
        and not _a_line(a, height)
        and not _a_line(b, height)
    )


def _a_line(box: list[int], height: float) -> bool:
    """A flat mark wider than a digit is tall: a line under or over the number, never a part of a
    digit (a 7's bar or a 5's flag is narrower). Joined, it would join the digits it runs under."""
    return box[3] < SPECK_HEIGHT * height and box[2] > height


def _union(a: list[int], b: list[int]) -> list[int]:
    x, y = min(a[0], b[0]), min(a[1], b[1])
    return [x, y, max(a[0] + a[2], b[0] + b[2]) - x, max(a[1] + a[3], b[1] + b[3]) - y]


def split_options(glyph: Glyph, height: float) -> list[SplitOption]:
    """The ways to read `glyph` given the typical digit height of its row: unsplit first, then splits
    into two (or three) digits at the minima of its column ink, for a glyph wide enough to hold them.

    Touching digits meet where little ink is: the column ink of the glyph has a minimum there. The
    deepest minima in the middle part of the glyph are tried; the number reader lets the model say
    which reading (unsplit, or which split) looks most like digits.
    """
    options = [SplitOption([glyph])]
    if glyph.box.w < WIDE * height or glyph.box.w < 8:
        return options
    parts_wanted = [2] if glyph.box.w < 1.9 * height else [2, 3]
    columns = glyph.mask.sum(axis=0).astype(np.float64)
    smooth = np.convolve(columns, np.ones(3) / 3, mode="same")
    seen: set[tuple] = set()
    cut_sets = {parts: _cut_sets(smooth, parts) for parts in parts_wanted}
    # the cut from each column, all found together, once (three-way splits share them)
    paths_from = _cut_paths(glyph.mask, sorted({cut for cuts in cut_sets.values() for each in cuts for cut in each}))
    for parts in parts_wanted:
        for cuts in cut_sets[parts]:
            paths = [paths_from[cut] for cut in cuts]
            key = tuple(int(path[len(path) // 2]) for path in paths) + tuple(int(path[0]) for path in paths)
            if key in seen:
                continue
            seen.add(key)
            pieces = _cut(glyph, paths)
            # cuts through the same gap by different paths make the same pieces: read them once
            same_pieces = tuple((piece.box, int(piece.mask.sum())) for piece in pieces)
            if same_pieces in seen:
                continue
            seen.add(same_pieces)
            # each piece of a split must be a digit's height: a cut that slices off the end of a
            # 7's bar or a 5's flag leaves a short piece, two touching digits leave two tall ones
            if len(pieces) == parts and min(piece.box.h for piece in pieces) >= PART_HEIGHT * height:
                options.append(SplitOption(pieces))
    return options


def _cut_sets(columns: np.ndarray, parts: int) -> list[list[int]]:
    """Column positions to cut at to get `parts` pieces: the lowest-ink columns in each cut's window.

    Two touching digits can meet anywhere between a fifth and four fifths of their width (a 1
    leaning on a 7 meets near a quarter); for three, each cut is looked for near its third.
    """
    width = len(columns)
    candidates_per_cut = []
    for k in range(1, parts):
        if parts == 2:
            low, high = int(0.18 * width), int(0.82 * width) + 1
        else:
            centre = width * k / parts
            low, high = int(centre - 0.3 * width / parts), int(centre + 0.3 * width / parts) + 1
        low, high = max(2, low), min(width - 2, high)
        if high <= low:
            return []
        window = np.arange(low, high)
        order = window[np.argsort(columns[window], kind="stable")]
        picked: list[int] = []
        for column in order:
            if all(abs(column - other) > max(2, width // 12) for other in picked):
                picked.append(int(column))
            if len(picked) == SPLITS_TRIED:
                break
        candidates_per_cut.append(picked)
    if parts == 2:
        return [[c] for c in candidates_per_cut[0]]
    return [[a, b] for a in candidates_per_cut[0][:2] for b in candidates_per_cut[1][:2] if b > a + 2]


def _cut_paths(mask: np.ndarray, columns: list[int]) -> dict[int, np.ndarray]:
    """Per starting column, the cut from top to bottom that passes through the least ink: per row, the
    column it passes (it moves at most one column per row, and stays within a third of the glyph's
    height of its starting column). Two digits leaning into each other touch along a slant; a
    straight cut would slice one of them, this one follows the gap. Tall glyphs are searched at half
    size.

    The cuts from all the columns are searched together, each in its own window (a row of the
    arrays, padded with infinite cost), so that the search's steps over the rows are taken once per
    glyph, not once per column: each cut is the one a search from its column alone finds.
    """
    if not columns:
        return {}
    if mask.shape[0] > 64:
        halves = _cut_paths(mask[::2, ::2], sorted({column // 2 for column in columns}))
        return {
            column: np.minimum(np.repeat(halves[column // 2] * 2, 2)[: mask.shape[0]], mask.shape[1] - 1)
            for column in columns
        }
    height, width = mask.shape
    reach = max(2, height // 3)
    windows = [(max(1, column - reach), min(width - 1, column + reach + 1)) for column in columns]
    span = max(high - low for low, high in windows)
    # per cut (first axis) and row, the ink in its window (infinite beyond it: never passed)
    ink = np.full((len(columns), height, span), np.inf)
    # a small price for leaving the starting column keeps the cut straight where nothing is in the way
    drift = np.full((len(columns), span), np.inf)
    for cut, (column, (low, high)) in enumerate(zip(columns, windows)):
        ink[cut, :, : high - low] = mask[:, low:high]
        drift[cut, : high - low] = 0.02 * np.abs(np.arange(low, high) - column)
    cost = ink[:, 0] + drift
    moves = np.zeros((height, len(columns), span), dtype=np.int8)
    edge = np.full((len(columns), 1), np.inf)
    places = np.arange(span)
    cuts = np.arange(len(columns))[:, None]
    for row in range(1, height):
        left = np.concatenate([edge, cost[:, :-1]], axis=1)
        right = np.concatenate([cost[:, 1:], edge], axis=1)
        stacked = np.stack([left, cost, right])
        choice = stacked.argmin(axis=0)
        moves[row] = choice.astype(np.int8) - 1
        cost = stacked[choice, cuts, places] + ink[:, row] + drift
    paths = {}
    for cut, (column, (low, _)) in enumerate(zip(columns, windows)):
        path = np.zeros(height, dtype=np.int64)
        path[-1] = int(np.argmin(cost[cut]))
        for row in range(height - 1, 0, -1):
            path[row - 1] = path[row] + moves[row, cut, path[row]]
        paths[column] = path + low
    return paths


def _cut(glyph: Glyph, paths: list[np.ndarray]) -> list[Glyph]:
    """The glyph cut along these paths (left to right) into pieces, each trimmed to its own ink."""
    height, width = glyph.mask.shape
    columns = np.arange(width)[None, :]
    edges = [np.zeros(height, dtype=np.int64), *paths, np.full(height, width)]
    pieces = []
    for left, right in zip(edges[:-1], edges[1:]):
        inside = (columns >= left[:, None]) & (columns < right[:, None])
        mask = glyph.mask & inside
        rows, cols = np.nonzero(mask)
        if len(rows) < 4:
            continue
        top, bottom, first, last = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        pieces.append(
            Glyph(
                Box(glyph.box.x + int(first), glyph.box.y + int(top), int(last - first), int(bottom - top)),
                np.where(mask, glyph.ink, 0.0)[top:bottom, first:last].astype(np.float32),
                mask[top:bottom, first:last].copy(),
            )
        )
    return pieces


def order_rows(glyphs: list[Glyph], max_rows: int = 2) -> list[list[Glyph]]:
    """Glyphs in rows (top to bottom), each row left to right; at most `max_rows` rows.

    A row is followed from glyph to glyph, left to right: a glyph joins the row whose last glyph
    (the nearest on its left) shares ROW_OVERLAP of the lower one's height with it, so a number
    photographed at a tilt or written uphill stays one row (its two ends may lie a digit apart in
    height, neighbours never do), while the rows of a number written on two lines share no height.
    A mark less than ROW_HEIGHT as tall as the typical glyph joins a row only if its middle lies
    well within the row's typical height.

    The rows of one number are written alike: a row whose glyphs are less than ROW_HEIGHT as tall
    as the tallest row's is stray marks (a mark in a shadow, a dot of dust, a scribble), not digits.
    With more rows than `max_rows`, the rows holding the most ink are kept (a heading or a stray
    line of scribble is dropped), still in their order on the page.
    """
    rows: list[list[Glyph]] = []
    typical = float(np.median([g.box.h for g in glyphs])) if glyphs else 0.0
    digit_tall = [g for g in glyphs if g.box.h >= ROW_HEIGHT * typical]
    for glyph in sorted(digit_tall, key=lambda g: (g.box.x, g.box.y)):
        shares = [_height_shared(row[-1].box, glyph.box) for row in rows]
        best = int(np.argmax(shares)) if shares else -1
        if best >= 0 and shares[best] >= ROW_OVERLAP:
            rows[best].append(glyph)
        else:
            rows.append([glyph])
    rows = _rows_merged(rows)
    # a small mark (a piece of a digit, a 5's loose flag, a dot, a dash) shares the height of whatever
    # it lies beside: it is in a row if its middle lies within the row's typical height, off its top
    # and bottom edges by ROW_EDGE of it (a flag reaching above the digits' tops, a full stop on their
    # baseline are not), else in a row of its own (which, as low as it is, is then dropped)
    for glyph in (g for g in glyphs if g.box.h < ROW_HEIGHT * typical):
        middle = glyph.box.y + glyph.box.h / 2
        home = next((row for row in rows if _within_the_bodies(middle, row)), None)
        if home is None:
            rows.append([glyph])
        else:
            home.append(glyph)
    rows.sort(key=lambda row: float(np.median([g.box.y + g.box.h / 2 for g in row])))
    if rows:
        heights = [float(np.median([g.box.h for g in row])) for row in rows]
        rows = [row for row, height in zip(rows, heights) if height >= ROW_HEIGHT * max(heights)]
    if len(rows) > max_rows:
        ink = [sum(float(g.mask.sum()) for g in row) for row in rows]
        kept = sorted(np.argsort(ink)[::-1][:max_rows])
        rows = [rows[i] for i in kept]
    return [sorted(row, key=lambda g: g.box.x) for row in rows]


def _within_the_bodies(middle: float, row: list[Glyph]) -> bool:
    """Whether a height `middle` lies within the row's typical height, off its edges by ROW_EDGE of it."""
    top, bottom = float(np.median([g.box.y for g in row])), float(np.median([g.box.bottom for g in row]))
    edge = ROW_EDGE * (bottom - top)
    return top + edge <= middle <= bottom - edge


def _rows_merged(rows: list[list[Glyph]]) -> list[list[Glyph]]:
    """The rows with each row whose glyphs' middles all lie within the height of a row of at least as
    many glyphs merged into it: digits written up and down on purpose ("1 2 3" like steps) are one
    row, though a high 3 between a low 2 and a low 5 shares no height with either."""
    rows = [list(row) for row in rows]
    while len(rows) > 1:
        order = sorted(range(len(rows)), key=lambda index: len(rows[index]))
        pair = next(
            (
                (small, large)
                for small in order
                for large in order
                if large != small and len(rows[large]) >= len(rows[small]) and _within(rows[small], rows[large])
            ),
            None,
        )
        if pair is None:
            break
        small, large = pair
        rows[large].extend(rows[small])
        del rows[small]
    return rows


def _within(row: list[Glyph], other: list[Glyph]) -> bool:
    """Whether the middle of every glyph of `row` lies within the height that `other`'s glyphs span."""
    top, bottom = min(g.box.y for g in other), max(g.box.bottom for g in other)
    return all(top <= g.box.y + g.box.h / 2 <= bottom for g in row)


def _height_shared(a: Box, b: Box) -> float:
    """The share of the lower box's height that the two boxes' heights have in common."""
    shared = min(a.bottom, b.bottom) - max(a.y, b.y)
    return max(0.0, shared) / max(1, min(a.h, b.h))


def may_be_one_digit(left: Glyph, right: Glyph, height: float) -> bool:
    """Whether two neighbours in a row (`left` starting first) may be the pieces of one digit, given
    the row's digit height: a 0 or a 2 that a ruling or a pen lift broke in two side by side, a 4
    whose stem stands apart. They overlap or nearly touch, and together are no wider than a digit
    may be and no taller than one. Whether they are is the reader's question (as for splits, the
    model and the not-a-digit guard say which reading looks more like digits)."""
    gap = right.box.x - left.box.right
    width = max(left.box.right, right.box.right) - left.box.x
    tall = max(left.box.bottom, right.box.bottom) - min(left.box.y, right.box.y)
    return gap <= JOIN_GAP * height and width <= JOIN_WIDTH * height and tall <= 1.5 * height


def joined(parts: list[Glyph]) -> Glyph:
    """One glyph made of several: their union box, each part's ink and mask where it lies."""
    box = [parts[0].box.x, parts[0].box.y, parts[0].box.w, parts[0].box.h]
    for part in parts[1:]:
        box = _union(box, [part.box.x, part.box.y, part.box.w, part.box.h])
    x, y, w, h = box
    ink = np.zeros((h, w), dtype=np.float32)
    mask = np.zeros((h, w), dtype=bool)
    for part in parts:
        top, left = part.box.y - y, part.box.x - x
        ink[top : top + part.box.h, left : left + part.box.w] = np.maximum(
            ink[top : top + part.box.h, left : left + part.box.w], part.ink
        )
        mask[top : top + part.box.h, left : left + part.box.w] |= part.mask
    return Glyph(Box(x, y, w, h), ink, mask)
