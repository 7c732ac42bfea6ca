"""The page stage: the ink that belongs to the digits on a drawing or a photo of paper, nothing else.

One image in; out, at a working scale, a white-on-black ink map in which rulings, grid lines,
margins, paper edges, shadows, colour bands and specks are zero, with the masks of what was kept and
what was dropped (for the steps strip). Number reading (digitcore.reading.number) starts here;
one-digit reading (digitcore.reading.preprocess) measures a photo's ink the same way
(digitcore.reading.paper) and removes rulings with this module's ruling_lines.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from digitcore.reading import paper
from digitcore.reading.decode import MIN_SIDE, NoDigitFound, flatten_alpha
from digitcore.reading.imageops import border, components_with_stats, luminance, ranked, stroke_width
from digitcore.reading.inputs import checked_input, decide_kind

PAGE_SIDE = 640  # the page stage works at most this many pixels on the longest side: a digit needs far fewer
MIN_PAGE_SIDE = 160  # ... and enlarges smaller pictures by a whole factor to at least this
LINE_ANGLES = np.arange(-10.0, 10.5, 1.0)  # degrees: phones are not held square; rulings tilt by a few
TILT_SIDE = 200  # the tilt is measured on a copy this many pixels on its longest side
RULING_SPAN = 0.45  # a ruling or grid line runs across at least this fraction of the picture
RULING_BEYOND = 0.03  # ... and runs on past the rest of the ink by this fraction of the picture at both ends
RULING_COVER = 0.5  # ... and covers this share of the paper between the digits and the picture's edge at both ends
RULING_FAR = 0.5  # ... or past the digits by this fraction of their extent (paper smaller than the photo)
RULING_PIECE = 0.06  # ... and is found from straight pieces at least this fraction of the picture long
MAX_LINE_THICKNESS = 0.04  # ... no thicker than this fraction of the picture's shorter side (and 4 px)
OVERLAP_SHARE = 0.25  # ... and its pieces overlap by at most a line's thickness or this share of the shorter one
LINE_SLOPE = 0.05  # ... and drift apart in row by at most this many pixels per pixel along it (a page's curl)
INK_DARKER = 1.75  # a pixel this many times as dark as a ruling typically is is ink lying along it
# the digits are the marks inside the picture when the largest of them is this share of the largest mark
INSIDE_SHARE = 0.3
SPECK_AREA = 0.6  # marks smaller than this many squared stroke widths are dust, not ink of a digit
FILLED = 0.75  # a mark covering this much of its box and several strokes wide is a patch (a band, a shadow)
TIGHT_CROP = 0.5  # digits filling this much of the picture's height leave little paper: the crop may cut some
CUT_TALLER = 0.3  # ... a digit it cuts is at most this fraction lower than the tallest of the others
SAME_PEN = 2.0  # ... its stroke width is within this factor of theirs
WIDEST = 2.0  # ... and it is at most this many times as wide as the tallest of them
ALONG_SIDE = 0.25  # a mark thinner than this fraction of its length is a line (along a side, or a 1)
IN_STEP = 0.12  # a line this close to a whole number of the grid's spacings from a ruling (share of a spacing) ...
MIN_SPACING = 6.0  # ... of a grid whose lines lie at least this many pixels apart
EDGE_FADE = 3  # pixels: a line's piece this close to the picture's edge is cut off by it, as one touching it
CRUMBS = 0.25  # marks smaller than this share of a line beside it are crumbs, not a digit
FIRST_LOOK_SIDE = 320  # pictures at least this many pixels on each side get their first look on a half copy
LINE_NOISE, LINE_SHARE = 2.0, 0.12  # rulings are looked for above this many noise sigmas and this share of the ink
LINE_CORE = 0.75  # ... and their typical darkness is this quantile of theirs (their core, not their faint edges)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left x, top y, width w, height h."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def scaled(self, factor: float) -> Box:
        """The same box in an image `factor` times as large (rounded outwards)."""
        x, y = int(np.floor(self.x * factor)), int(np.floor(self.y * factor))
        right, bottom = int(np.ceil(self.right * factor)), int(np.ceil(self.bottom * factor))
        return Box(x, y, max(1, right - x), max(1, bottom - y))

    def as_list(self) -> list[int]:
        """[x, y, w, h], as the CLI prints it."""
        return [self.x, self.y, self.w, self.h]


@dataclass
class PageInk:
    """The digits' ink on one page, at working scale (the original resized to MIN_PAGE_SIDE..PAGE_SIDE)."""

    ink: np.ndarray  # float32 (h, w) in [0, 1]: white ink on black, 0 wherever nothing was kept
    mask: np.ndarray  # bool (h, w): the pixels kept as the digits' ink
    lines: np.ndarray  # bool (h, w): marks dropped as rulings, grid lines and paper edges
    dropped: np.ndarray  # bool (h, w): other marks dropped (specks, bands, marks running off the picture)
    gray: np.ndarray  # float32 (h, w) in [0, 1]: the grayscale the ink was found in, for display
    scale: float  # working pixels per original pixel (below 1: shrunk, above 1: a small picture enlarged)
    original_size: tuple[int, int]  # (width, height) of the image as given
    stroke: float  # typical stroke width of the kept ink, in working pixels
    photo: bool  # read as a photo of paper (False: a clean drawing, taken as it is)

    def to_original(self, box: Box) -> Box:
        """A box in working pixels as a box in the pixels of the image as given (clipped to it)."""
        scaled = box.scaled(1.0 / self.scale)
        width, height = self.original_size
        x, y = min(max(0, scaled.x), width - 1), min(max(0, scaled.y), height - 1)
        return Box(x, y, max(1, min(scaled.right, width) - x), max(1, min(scaled.bottom, height) - y))


def find_ink(image: Image.Image | np.ndarray) -> PageInk:
    """The digits' ink on a drawing or a photo of paper (see the module docstring).

    Accepts what digitcore.reading.preprocess.to_mnist accepts: a decoded Pillow image or an (h, w), (h, w, 3)
    or (h, w, 4) array (uint8 or float in [0, 1]). Raises preprocess.NoDigitFound when nothing that
    could be a digit is left and ImageTooSmall for images smaller than MIN_SIDE.
    """
    arrays = checked_input(image)
    colour, alpha, had_transparency = arrays.colour, arrays.alpha, arrays.had_transparency
    height, width = colour.shape[:2]
    colour = flatten_alpha(
        colour, alpha, empty_message="No digit found: the picture is fully transparent. Draw or photograph a number."
    )
    # Large pictures are shrunk (a digit needs far fewer pixels); small ones are enlarged, so that a
    # stroke of a 28-px digit is several pixels wide and thresholds and filters see its shape.
    scale = min(PAGE_SIDE / max(height, width), float(max(1, int(np.ceil(MIN_PAGE_SIDE / max(height, width))))))
    if scale != 1.0:
        size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        colour = np.clip(cv2.resize(colour, size, interpolation=interpolation), 0.0, 1.0).reshape(size[1], size[0], -1)
    gray = luminance(colour).astype(np.float32, copy=False)  # for the kind, the darkness and the display
    photo = decide_kind(colour, had_transparency, gray) == "photo"
    if photo:
        darkness, noise = _photo_darkness(colour, gray)
    else:
        darkness, noise = _drawing_darkness(colour), None
    mask, strength, faint = _threshold(darkness, noise)
    # rulings are looked for in a fainter threshold than the digits' (as one-digit reading does): a
    # grid printed as light as a pencil breaks up at the digits' threshold into pieces too short to
    # be told for lines, and those left join the digits to the picture's edge
    # (the fainter threshold widens a line by about a pixel on each side of its core: the line's
    # typical darkness, against which darker ink along it is told, is its upper quartile, the core's)
    # (a small photo was enlarged, and its rulings with it; a small drawing's strokes are as thin as
    # any ruling once enlarged: a tiny 1 spanning a drawn number stays a 1)
    lines = darker_ink_kept(
        ruling_lines(faint, max(1.0, scale) if photo else 1.0), darkness, LINE_CORE if photo else 0.5
    )
    mask &= ~lines
    mask, dropped = _drop_non_digit_marks(mask)
    if not mask.any():
        raise NoDigitFound(
            "No digit found: only lines, edges or specks stand out from the paper. Photograph or draw the digits "
            "larger and darker."
        )
    stroke = stroke_width(mask)
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ink = np.clip(darkness / strength, 0.0, 1.0, dtype=np.float32)
    np.copyto(ink, 0.0, where=~(grown & ~lines))
    return PageInk(
        ink=ink,
        mask=mask,
        lines=lines,
        dropped=dropped,
        gray=gray,
        scale=scale,
        original_size=(width, height),
        stroke=stroke,
        photo=photo,
    )


def _drawing_darkness(colour: np.ndarray) -> np.ndarray:
    """Ink of a drawing (a flat background): the colour distance from the background, any colours."""
    background = np.median(border(colour), axis=0)
    return np.sqrt(np.mean((colour - background) ** 2, axis=-1)).astype(np.float32)


def _photo_darkness(colour: np.ndarray, plain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far each pixel stands out from the paper around it, measured as one-digit reading measures
    a photo's ink (digitcore.reading.paper), and the paper's noise (its grain's sigma, per pixel: a
    shadow is noisier than lit paper). `plain` is the colour's luminance.

    The paper's colour is divided out and the darkest channel taken (blue ink on yellow paper is as
    dark as black ink on white); a first look against a smooth background gives the ink's polarity
    and the strokes' width; then the paper is found by a closing with a disc a few stroke widths
    across, which fills the strokes in but keeps a shadow's or a coloured band's edge where it is
    (a disc, as a square's diagonal would not fit inside a band running at 45 degrees).
    """
    height, width = plain.shape
    # a large picture's paper colour is taken from a quarter of its pixels, and its first look (it only
    # measures the polarity and the strokes' width) is on a copy half as large: a quarter of the
    # pixels, in which the strokes of digits that fill the picture stay pixels wide
    shrink = 2 if min(height, width) >= FIRST_LOOK_SIDE else 1
    coloured = colour.ndim == 3 and colour.shape[-1] == 3
    gray = paper.colour_aware_gray(colour, shrink) if coloured else plain
    look = gray if shrink == 1 else cv2.resize(gray, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    ink, noise, inverted = paper.relative_ink(look, paper.estimate_background(look), None)
    first = paper.hysteresis(ink, noise, paper.ink_strength(ink))
    stroke = shrink * stroke_width(first) if first.any() else 3.0
    coloured_paper = paper.coloured_paper_luminance(colour, gray, plain) if coloured else None
    darkness, noise = paper.ink_against_paper(
        gray, coloured_paper, paper.paper_filter_radius(stroke, gray.shape), inverted
    )
    return darkness.astype(np.float32, copy=False), noise


def _threshold(darkness: np.ndarray, noise: np.ndarray | None) -> tuple[np.ndarray, float, np.ndarray]:
    """The marks (hysteresis: above a low threshold and joined to pixels above a high one), the ink's
    strength, and the fainter marks in which rulings are looked for.

    A photo's thresholds stand above its paper's `noise` (per pixel), as one-digit reading's do; a
    drawing (`noise` None) has none, and its rulings are looked for in its marks."""
    top = _quantiles(darkness, (0.999,))[0]
    strength = max(top, 0.5 * float(darkness.max()))
    if strength < 0.08 or (noise is not None and paper.ink_strength(darkness / noise) < 6.0):
        raise NoDigitFound(
            "No digit found: the picture shows no marks that stand out from the paper. "
            "Draw or photograph the digits dark on light or light on dark."
        )
    high: float | np.ndarray
    low: float | np.ndarray
    if noise is None:
        high, low = 0.5 * strength, 0.3 * strength
    else:
        high, low = np.maximum(6.0 * noise, 0.45 * strength), np.maximum(3.0 * noise, 0.2 * strength)
    count, labels = cv2.connectedComponents((darkness > low).astype(np.uint8), connectivity=8)
    # (np.compress and np.take pick the same values as a boolean mask and fancy indexing, faster)
    strong = np.bincount(np.compress((darkness > high).ravel(), labels), minlength=count) > 0
    strong[0] = False
    marks = np.take(strong, np.asarray(labels, dtype=np.int32))  # (int32 already: no copy)
    if noise is None:
        return marks, max(strength, 1e-6), marks
    faint = darkness > np.maximum(LINE_NOISE * noise, LINE_SHARE * strength)
    return marks, max(strength, 1e-6), faint


def _quantiles(values: np.ndarray, shares: tuple[float, ...]) -> list[float]:
    """The quantiles at `shares` of `values` (linear between neighbours, as np.quantile), exactly.

    np.median and np.percentile sort a copy each time (some milliseconds on a page); the order
    statistics come from imageops.ranked instead (a sorted sample brackets each rank and only the
    values inside the bracket are partitioned), numpy's partition where it declines.
    """
    flat = values.ravel()
    last = flat.size - 1
    results = []
    for share in shares:
        place = share * last
        ranks = sorted({int(np.floor(place)), min(last, int(np.ceil(place)))})
        found = ranked(flat, tuple(ranks))
        if found is None:
            found = list(np.partition(flat, ranks)[ranks])
        below, above = float(found[0]), float(found[-1])
        results.append(below + (above - below) * (place - np.floor(place)))
    return results


def ruling_lines(mask: np.ndarray, enlarged: float = 1.0) -> np.ndarray:
    """The pixels of ruled and grid lines (and margin lines) in `mask`, at any tilt in LINE_ANGLES
    (`enlarged`: how many times the picture was enlarged before, which made its rulings as many times thicker).

    A ruling is a thin mark that runs straight (or gently curved) across much of the picture; no
    stroke of a digit does. Per family (across, then down the page): the tilt is found from the
    sharpest projection profile, the picture is turned square, straight pieces are found with an
    opening by a long flat line (after a 1-px vertical dilation, so that a line a few degrees off
    or curved still forms long runs), pieces in the same band of rows are joined, and a band
    counts as a line when it spans RULING_SPAN of the picture and runs on past the rest of the ink
    at both ends (the stem of a 1 in a tight crop spans the picture too, but ends where the other
    digits do). Only the pixels whose run across the line is about as thick as the line go: where a
    digit's stroke crosses it, the run is longer.
    """
    lines = np.zeros_like(mask)
    if np.count_nonzero(mask) < 20:
        return lines
    across, across_positions = _lines_across(mask, enlarged)
    down_transposed, down_positions = _lines_across(np.ascontiguousarray(mask.T), enlarged)
    down = np.ascontiguousarray(down_transposed.T)
    rest = mask & (across == 0) & (down == 0)
    # the digits' extent: the marks of substance left (not the crumbs of lines that rounding left)
    count, labels, stats, _ = components_with_stats(rest)
    if count <= 1 or stats[1:, cv2.CC_STAT_AREA].max() < 12:
        return lines  # nothing but long marks: nothing is known to be a ruling rather than the digits
    substantial = np.nonzero(stats[:, cv2.CC_STAT_AREA] >= 0.1 * stats[1:, cv2.CC_STAT_AREA].max())[0]
    substantial = substantial[substantial > 0]
    # a piece of a line cut off by the picture's corner is left too: the digits have paper around them
    # (unless what lies inside is only crumbs beside them: a tight crop cuts the digits themselves)
    # (or coming within EDGE_FADE of it: a line fades there in the blur and the threshold, and its
    # last piece may stop a few pixels short of the edge, in a corner)
    inside = substantial[~_touching_border(stats[substantial], mask.shape, EDGE_FADE)]
    area = stats[:, cv2.CC_STAT_AREA]
    if len(inside) and area[inside].max() >= INSIDE_SHARE * area[substantial].max():
        substantial = inside
    left = stats[substantial, cv2.CC_STAT_LEFT]
    top = stats[substantial, cv2.CC_STAT_TOP]
    extents = (
        (left.min(), (left + stats[substantial, cv2.CC_STAT_WIDTH]).max()),
        (top.min(), (top + stats[substantial, cv2.CC_STAT_HEIGHT]).max()),
    )
    margin = RULING_BEYOND * max(mask.shape)
    families = ((across, across_positions, extents[0], 1), (down, down_positions, extents[1], 0))
    found = []  # per family of rulings: its pixels, their band numbers, which bands are rulings, which cross
    for family, positions, (low, high), axis in families:
        position = _nonzero(family)
        along, values = position[axis], family[position]
        bands = np.unique(values)
        if not len(bands):
            continue
        size = mask.shape[axis]
        runs_past = np.zeros(len(positions), dtype=bool)  # per band number, as positions
        past_one_end = np.zeros(len(positions), dtype=bool)
        from_the_edge = np.zeros(len(positions), dtype=bool)  # ... running past them from the picture's edge
        crosses = np.zeros(len(positions), dtype=bool)
        edge_to_edge = False
        far = RULING_FAR * (high - low)
        for band in bands:
            members = values == band
            extent = along[members]
            first, last = int(np.argmin(extent)), int(np.argmax(extent))
            if extent[first] > low - margin or extent[last] < high + margin:
                past_one_end[int(band)] = extent[first] <= low - margin or extent[last] >= high + margin
                from_the_edge[int(band)] = (extent[first] <= min(low - margin, RULING_BEYOND * size)) or (
                    extent[last] >= max(high + margin, (1 - RULING_BEYOND) * size - 1)
                )
                continue
            runs_past[int(band)] = True
            crosses[int(band)] = (
                extent[first] <= RULING_BEYOND * size and extent[last] >= (1 - RULING_BEYOND) * size - 1
            )
            # covering most of the paper between the digits and the picture's edge, at both ends
            before, after = extent[first], size - 1 - extent[last]
            covers = before <= (1.0 - RULING_COVER) * low and after <= (1.0 - RULING_COVER) * (size - 1 - high)
            # (or far past the digits: a sheet smaller than the photo, its rulings end at its edge)
            edge_to_edge |= covers or (extent[first] <= low - far and extent[last] >= high + far)
        # A digit's own long stroke (the stem of a 4, the base of a 2) can run past the rest of its
        # ink too, but it ends on the paper. Ruled paper shows itself by lines that run on towards
        # the picture's edge (or far past the digits) at both ends; only then are this direction's
        # bands rulings (the pieces of a line that the digits or the threshold broke up included).
        if edge_to_edge:
            # A printed grid is evenly spaced: a line of it that the threshold broke where it is as
            # light as the paper's grain ends short of the digits' far side, but it lies in step
            # with the rulings found. A digit's stroke is rarely both in step and as thin as they are.
            # So does a line that runs past them from the picture's edge and fades or breaks before
            # their far side: a digit's stroke has paper around it and does not reach the edge.
            runs_past |= past_one_end & (_in_step(positions, runs_past) | from_the_edge)
            found.append((position, values, runs_past, crosses))
    # Rulings come several to a page, or run beside a digit. One long thin mark alone beside crumbs
    # (a thin 1, its faint halo broken into specks) is a ruling only if it crosses the whole picture.
    lone = sum(int(rulings.sum()) for _, _, rulings, _ in found) == 1
    if lone and not any((rulings & crosses).any() for _, _, rulings, crosses in found):
        line_area = sum(int(rulings[values.astype(np.intp)].sum()) for _, values, rulings, _ in found)
        if stats[1:, cv2.CC_STAT_AREA].max() < CRUMBS * line_area:
            return lines
    for position, values, rulings, _ in found:
        lines[position] |= rulings[values.astype(np.intp)]
    return lines


def _in_step(positions: np.ndarray, rulings: np.ndarray) -> np.ndarray:
    """Which lines (by band number) lie a whole number of the grid's spacings from a ruling.

    `positions` are the lines' rows in the turned picture (NaN for a band that is no line), `rulings`
    the bands known to be rulings. The spacing is the smallest gap between two rulings that the
    other gaps are whole multiples of; with fewer than two rulings there is no spacing to step by.
    """
    known = np.sort(positions[rulings & np.isfinite(positions)])
    in_step = np.zeros(len(positions), dtype=bool)
    gaps = np.diff(known)
    gaps = gaps[gaps >= MIN_SPACING]
    if not len(gaps):
        return in_step
    smallest = float(gaps.min())
    spacing = float(np.median(gaps / np.maximum(1.0, np.round(gaps / smallest))))
    if np.abs(gaps / spacing - np.round(gaps / spacing)).max() > IN_STEP:
        return in_step  # rulings that are not evenly spaced (a margin line among them): no grid to step by
    for band in np.nonzero(np.isfinite(positions))[0]:
        steps = (positions[band] - known) / spacing
        nearest = int(np.argmin(np.abs(steps)))
        whole = round(float(steps[nearest]))
        in_step[band] = whole != 0 and abs(steps[nearest] - whole) <= IN_STEP
    return in_step


def darker_ink_kept(lines: np.ndarray, darkness: np.ndarray, typical_share: float = 0.5) -> np.ndarray:
    """The line pixels without those far darker than the lines are (a stroke lying along a line).

    Rulings and grid lines are printed evenly and lightly; where a digit's stroke lies along one,
    thresholds and line shapes cannot tell the two apart, but the ink is usually far darker than
    the print (a pencil as light as the lines loses those pixels, as before). The lines' typical
    darkness is the `typical_share` quantile of their pixels' (the median, or higher where the
    lines were found in a fainter threshold that adds their faint edges).
    """
    if not lines.any():
        return lines
    typical = _quantiles(darkness[lines], (typical_share,))[0]
    return lines & (darkness <= INK_DARKER * typical)


def _touching_border(stats: np.ndarray, shape: tuple[int, ...], within: int = 0) -> np.ndarray:
    """Which components (rows of connectedComponentsWithStats' stats) touch the picture's edge (or
    come within `within` pixels of it)."""
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    return (left <= within) | (top <= within) | (right >= shape[1] - within) | (bottom >= shape[0] - within)


def _lines_across(mask: np.ndarray, enlarged: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The candidate lines running across the picture (left to right), labelled 1, 2, ... (0: none),
    and each label's row in the turned picture at its middle column (index 0 and bands that are no
    line: NaN), to tell the lines of an evenly spaced grid."""
    height, width = mask.shape
    angle = _tilt(mask)
    pad = int(np.ceil(np.tan(np.radians(abs(angle) + 1)) * max(height, width) / 2)) + 2
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    centre = (padded.shape[1] / 2.0, padded.shape[0] / 2.0)
    turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
    # level lines (most pages): the turn is the identity, and a nearest-pixel warp by it copies the picture
    level = angle == 0.0
    square = (
        padded if level else cv2.warpAffine(padded, turn, (padded.shape[1], padded.shape[0]), flags=cv2.INTER_NEAREST)
    )
    piece = max(12, round(RULING_PIECE * width))
    tolerant = cv2.dilate(square, np.ones((3, 1), np.uint8))
    pieces = cv2.bitwise_and(cv2.morphologyEx(tolerant, cv2.MORPH_OPEN, np.ones((1, piece), np.uint8)), square)
    # (4 px of the picture as given: a small crop enlarged three times shows a 2-px ruling 6 px thick, and more blurred)
    thickest = max(4.0 * enlarged, MAX_LINE_THICKNESS * min(height, width))
    # a thick digit's flat parts (the top of a 0 or a 7) pass the opening too and would join the
    # lines it crosses into one piece: what is thicker than any ruling is not part of one
    thick = cv2.morphologyEx(pieces, cv2.MORPH_OPEN, np.ones((int(thickest) + 1, 1), np.uint8))
    pieces = cv2.bitwise_and(pieces, cv2.bitwise_not(thick))
    count, labels, stats, centroids = components_with_stats(pieces)
    if count <= 1:
        return np.zeros(mask.shape, np.float32), np.full(1, np.nan)
    lefts = stats[1:, cv2.CC_STAT_LEFT].astype(np.float64)
    bands = _bands(centroids[1:, 1], lefts, lefts + stats[1:, cv2.CC_STAT_WIDTH], thickest)
    # per run length: the pixels in a vertical run longer than it (an opening with a vertical line)
    longer: dict[int, np.ndarray] = {}
    cut = np.zeros(square.shape, dtype=np.float32)
    pixels_of = _pixels_of_bands(labels, count, bands)
    positions = np.full(len(bands) + 1, np.nan)
    for number, members in enumerate(bands, 1):
        left = min(stats[1 + i, cv2.CC_STAT_LEFT] for i in members)
        right = max(stats[1 + i, cv2.CC_STAT_LEFT] + stats[1 + i, cv2.CC_STAT_WIDTH] for i in members)
        if right - left < RULING_SPAN * width:
            continue
        rows, cols = pixels_of(number)
        # the line's own thickness: the median over its columns of its pixels in each (a stroke that
        # joins the line adds to a few columns only)
        counts = np.bincount(cols)
        thickness = float(np.median(counts[counts > 0]))
        if thickness > thickest:
            continue
        # A digit's stroke lying along the line (the bar of a 7 touching it) joins its piece: only
        # what lies on the line's course (a gentle curve fitted to the middle of each column) is cut.
        on_course, positions[number] = _on_course(rows, cols, thickness, square.shape[1] / 2.0)
        rows, cols = rows[on_course], cols[on_course]
        allowed = int(thickness) + 2
        if allowed not in longer:
            kernel = np.ones((allowed + 1, 1), np.uint8)
            longer[allowed] = cv2.morphologyEx(square, cv2.MORPH_OPEN, kernel).astype(bool)
        thin = ~longer[allowed][rows, cols]  # where a stroke crosses the line, the run is longer: kept
        cut[rows[thin], cols[thin]] = number
    if not cut.any():
        return np.zeros(mask.shape, np.float32), positions
    back = cv2.invertAffineTransform(turn)
    unturned = cut if level else cv2.warpAffine(cut, back, (padded.shape[1], padded.shape[0]), flags=cv2.INTER_NEAREST)
    unturned = cv2.dilate(unturned, np.ones((3, 3), np.uint8))  # the pixels rounding left out on the way back
    return np.where(mask, unturned[pad : pad + height, pad : pad + width], 0.0), positions


def _pixels_of_bands(
    labels: np.ndarray, count: int, bands: list[list[int]]
) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """A function giving the (rows, cols) of band `number`'s pixels (bands numbered from 1), in the
    order np.nonzero gives them; the picture is scanned once for all bands, not once per band."""
    band_of_label = np.zeros(count, dtype=np.int32)
    for number, members in enumerate(bands, 1):
        band_of_label[np.asarray(members, dtype=np.intp) + 1] = number
    rows, cols = _nonzero(labels)
    which = band_of_label[labels[rows, cols]]
    order = np.argsort(which, kind="stable")
    starts = np.searchsorted(which[order], np.arange(len(bands) + 2))

    def pixels(number: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = order[starts[number] : starts[number + 1]]
        return rows[chosen], cols[chosen]

    return pixels


def _nonzero(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero(image) of a 2-D picture: the same (rows, cols), in the same row-by-row order.

    OpenCV's scan for nonzero pixels is several times faster than numpy's on a page that is mostly
    zero (the line images are)."""
    points = cv2.findNonZero(image)
    if points is None:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return points[:, 0, 1].astype(np.intp), points[:, 0, 0].astype(np.intp)


def _tilt(mask: np.ndarray) -> float:
    """The angle (degrees) that turns the lines running across the picture level: the one whose fullest
    row is fullest (a level ruling fills one row end to end; a digit's strokes fill no row)."""
    height, width = mask.shape
    factor = min(1.0, TILT_SIDE / max(height, width))
    small = cv2.resize(mask.astype(np.float32), (max(8, round(width * factor)), max(8, round(height * factor))))
    centre = (small.shape[1] / 2.0, small.shape[0] / 2.0)

    def fullest_row(angle: float) -> float:
        turned = cv2.warpAffine(small, _turn(centre, angle), small.shape[::-1], flags=cv2.INTER_NEAREST)
        sums = turned.sum(axis=1).astype(np.float64)
        # a line may straddle two rows: the fullest two neighbouring rows (np.convolve with two ones,
        # in the same float64 sums, without its overhead; the top row alone is never more)
        return float((sums[1:] + sums[:-1]).max())

    best, best_score = 0.0, fullest_row(0.0)
    # every degree: a line one degree off drifts over several rows and no longer fills one
    for angle in sorted(LINE_ANGLES, key=abs):
        if angle == 0.0:
            continue
        score = fullest_row(float(angle))
        if score > best_score * 1.02:  # on a near tie the smaller tilt (tried first) wins
            best, best_score = float(angle), score
    return best


@functools.lru_cache(maxsize=256)
def _turn(centre: tuple[float, float], angle: float) -> np.ndarray:
    """cv2.getRotationMatrix2D(centre, angle, 1.0), made once per picture size and angle: making it
    costs a fifth of turning the tilt's small copy, and the tilt turns it 42 times per page."""
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix.flags.writeable = False  # shared by every call that asks for it
    return matrix


def _on_course(rows: np.ndarray, cols: np.ndarray, thickness: float, middle: float) -> tuple[np.ndarray, float]:
    """Which of a line's pixels lie on its course (a quadratic fitted to each column's middle row,
    refitted without the columns where something else, a stroke, pulls the middle away) and the
    course's row at column `middle`."""
    columns, inverse = np.unique(cols, return_inverse=True)
    middles = np.zeros(len(columns))
    np.add.at(middles, inverse, rows)
    middles /= np.bincount(inverse)
    keep = np.ones(len(columns), dtype=bool)
    degree = 2 if len(columns) > 20 else 1
    for _ in range(3):
        coefficients = np.polyfit(columns[keep], middles[keep], degree)
        error = np.abs(np.polyval(coefficients, columns) - middles)
        keep = error <= max(1.0, float(np.percentile(error, 60)))
        if keep.sum() <= degree + 1:
            break
    course = np.polyval(coefficients, cols)
    return np.abs(rows - course) <= thickness / 2 + 1.5, float(np.polyval(coefficients, middle))


def _bands(mean_rows: np.ndarray, lefts: np.ndarray, rights: np.ndarray, thickest: float) -> list[list[int]]:
    """Straight pieces grouped into lines, as lists of piece indices (label - 1); a piece is given by
    its mean row and the columns it spans (left, right exclusive).

    A line broken up (by the digits crossing it, by a tilt or a curve the turn did not square) leaves
    pieces side by side along it, each within a line's thickness of the row of its neighbour along
    the line (a little more the further apart they are, as a curl bends it). Taken longest first (the long pieces are the lines; scraps of a digit's strokes that
    pass the opening are short), a piece joins the band it continues: the one whose piece nearest
    in columns is within a line's thickness of its row, with no piece lying over much of the same columns.
    What lies over the same columns a few rows away is something else (the next line of a fine
    grid, a scrap of a stroke between two lines), and chaining it would join separate lines.
    """
    order = np.argsort(-(rights - lefts), kind="stable")
    bands: list[list[int]] = []
    for index in order:
        row, left, right = mean_rows[index], lefts[index], rights[index]
        best, best_gap = -1, np.inf
        for number, band in enumerate(bands):
            members = np.asarray(band)
            overlap = np.minimum(right, rights[members]) - np.maximum(left, lefts[members])
            # where a tilt or a curve steps a line from one row to the next its pieces overlap a
            # little; a stroke or another line lies over much of the same columns
            shorter = np.minimum(right - left, rights[members] - lefts[members])
            if (overlap > np.maximum(thickest, OVERLAP_SHARE * shorter)).any():
                continue
            nearest = members[int(np.argmax(overlap))]  # the least negative overlap: the closest in columns
            gap = abs(row - mean_rows[nearest])
            # a curved line's pieces drift apart in row the further apart their middles are
            apart = abs((left + right) - (lefts[nearest] + rights[nearest])) / 2.0
            if gap <= thickest + LINE_SLOPE * apart and gap < best_gap:
                best, best_gap = number, gap
        if best >= 0:
            bands[best].append(int(index))
        else:
            bands.append([int(index)])
    return bands


def digits_cut_by_a_tight_crop(mask: np.ndarray) -> np.ndarray:
    """The ink of the marks running off the picture that are digits a tight crop cut: those find_ink
    keeps by that rule. For readers that otherwise drop all that touches the picture's edge: one-digit
    reading, for which a mark that only a side of a crop with paper above and below cuts is rather a
    neighbour's piece than its digit (find_ink, reading numbers, keeps those too)."""
    labels, _, cut = _edge_verdicts(mask, sides=False)
    return np.take(cut, labels)


def _drop_non_digit_marks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop what is not a digit's ink: dust, filled patches, and marks running off the picture (the
    paper's edge, a table, a margin) unless they are digits that a tight crop cut."""
    labels, keep, _ = _edge_verdicts(mask)
    kept = np.take(keep, labels)  # as keep[labels], faster
    return kept, mask & ~kept


def _edge_verdicts(mask: np.ndarray, sides: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The marks of `mask` (labels), which of them are kept as digits' ink, and which of those kept
    touch the picture's edge as digits that a tight crop cut (`sides`: or that only a side of a crop
    with paper above and below cut, as the ends of a number)."""
    count, labels, stats, _ = components_with_stats(mask)
    cut = np.zeros(count, dtype=bool)
    if count <= 1:
        return labels, np.arange(count) > 0, cut
    height, width = mask.shape
    stroke = stroke_width(mask)
    keep = np.ones(count, dtype=bool)
    keep[0] = False
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    keep &= area >= SPECK_AREA * stroke * stroke
    filled = (area / np.maximum(1, w * h) > FILLED) & (np.minimum(w, h) > 4 * stroke)
    keep &= ~filled
    touching = _touching_border(stats, mask.shape)
    spanning = (w >= 0.9 * width) | (h >= 0.9 * height)
    marks = _Marks(labels, stats, _mark_strokes(mask, labels, count), _mark_elongations(mask, labels, count))
    shaped = keep & _digit_shaped(marks)
    straight = np.minimum(w, h) < ALONG_SIDE * np.maximum(w, h)  # a 1, or an edge or fold: either may span
    inside = keep & ~touching
    within = keep & ~(touching & spanning)
    scale = area[within | (shaped & ~straight)].max() if (within | (shaped & ~straight)).any() else 0.0
    if inside.any() and area[inside].max() >= INSIDE_SHARE * scale:
        # What runs off the picture is not the digits, which have paper around them, unless the
        # picture is cropped tightly to them: then a digit may touch its edge too.
        digits = inside & (area >= 0.3 * area[inside].max())
        cut = _cut_by_a_tight_crop(marks, keep & touching, digits, sides)
        keep &= ~touching | cut
    elif shaped.any():
        # Every mark of substance runs off the picture. An edge, a fold or a table spans it; no digit
        # does, unless the crop is tight and the digit is like the others (or alone: a tight crop of a 1).
        digits = shaped & (area >= 0.3 * area[shaped].max())
        cut = _cut_by_a_tight_crop(marks, keep & touching, digits, sides)
        keep &= ~(touching & spanning) | cut
    else:
        keep &= ~(touching & spanning)  # an edge, a fold, a table: nothing like a digit spans the picture
    return labels, keep, cut & keep


@dataclass(frozen=True)
class _Marks:
    """The connected marks of a mask: labels and stats as cv2.connectedComponentsWithStats gives
    them, each mark's stroke width (twice its area over its perimeter) and its elongation."""

    labels: np.ndarray
    stats: np.ndarray
    strokes: np.ndarray
    elongations: np.ndarray  # each mark's length over its width, along its own axis (see _mark_elongations)

    def contact(self) -> dict[str, np.ndarray]:
        """Per side of the picture, how many pixels of each mark lie on that side's outermost row or column."""
        count = len(self.stats)
        sides = {
            "top": self.labels[0],
            "bottom": self.labels[-1],
            "left": self.labels[:, 0],
            "right": self.labels[:, -1],
        }
        return {side: np.bincount(line, minlength=count) for side, line in sides.items()}


def _mark_strokes(mask: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Each mark's stroke width: twice its area over its perimeter (the pixels with a neighbour off
    the mark; a cut by the picture's edge adds none)."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    edge = mask & ~inner.astype(bool)
    perimeter = np.bincount(np.compress(edge.ravel(), labels), minlength=count).astype(np.float64)
    area = np.bincount(np.compress(mask.ravel(), labels), minlength=count).astype(np.float64)
    return 2.0 * area / np.maximum(perimeter, 1.0)


def _mark_elongations(mask: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Each mark's length over its width along its own main axis: the square root of the ratio of the
    spreads of its pixels along and across that axis (the eigenvalues of their covariance). A straight
    stroke L long and s wide measures L/s at any slant; its box measures that only upright (a 1
    slanted by a third of its height has a box more than a third as wide as tall). A blob measures
    about 1."""
    rows, cols = np.nonzero(mask)
    owners = labels[rows, cols]
    pixels = np.maximum(np.bincount(owners, minlength=count), 1).astype(np.float64)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(owners, weights=values, minlength=count) / pixels

    x, y = cols.astype(np.float64), rows.astype(np.float64)
    mean_x, mean_y = mean(x), mean(y)
    xx, yy, xy = mean(x * x) - mean_x**2, mean(y * y) - mean_y**2, mean(x * y) - mean_x * mean_y
    middle, spread = (xx + yy) / 2.0, np.sqrt(((xx - yy) / 2.0) ** 2 + xy**2)
    # a pixel is a unit square: its own spread (1/12) keeps a one-pixel line's width from being 0
    return np.sqrt((middle + spread + 1.0 / 12.0) / (np.maximum(middle - spread, 0.0) + 1.0 / 12.0))


def _lying_along_a_side(marks: _Marks) -> np.ndarray:
    """Which marks lie along a side of the picture they touch (a paper's or a table's edge): touching
    the side with a run longer than their extent away from it, or crossing the picture from side to
    side as a thin band. A digit cut by the picture's edge meets it across, with a stroke or a bar."""
    stats, contact = marks.stats, marks.contact()
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    along = (contact["top"] > h) | (contact["bottom"] > h) | (contact["left"] > 0.5 * h) | (contact["right"] > 0.5 * h)
    across = (contact["left"] > 0) & (contact["right"] > 0) & (h < ALONG_SIDE * w)
    return along | across


def _digit_shaped(marks: _Marks) -> np.ndarray:
    """Which marks could be a digit the picture's edge cut: strokes (a stroke width under a third of
    the box's shorter side, or a single stroke as narrow as a 1 at any slant), not lying along a side."""
    w, h = marks.stats[:, cv2.CC_STAT_WIDTH], marks.stats[:, cv2.CC_STAT_HEIGHT]
    stroke_like = (marks.strokes < np.minimum(w, h) / 3.0) | (marks.elongations >= 1.0 / ALONG_SIDE)
    return stroke_like & ~_lying_along_a_side(marks)


def _cut_by_a_tight_crop(marks: _Marks, touching: np.ndarray, digits: np.ndarray, sides: bool = True) -> np.ndarray:
    """Which of the marks touching the picture's edge are digits that a tight crop cut.

    `digits` are the marks known to be digits: those of substance inside the picture, or when every
    mark touches its edge, the digit-shaped ones of substance. A crop is tight when they fill at
    least TIGHT_CROP of its height: there is little paper around the digits, so a digit at the ends
    of the row, or a little taller than the others, runs into the edge. In a crop with paper above
    and below the digits, only marks meeting the left or right side alone are looked at, and only
    with `sides` (a number cropped close at its ends). Such a mark is a digit when it looks like
    them: in their row, nearly as tall or taller (the crop follows the tallest digits, so those it
    cuts are often taller than the rest), written with the same pen (a paper's edge, a fold, a table
    or a shadow is thinner or thicker than the strokes) and shaped like a digit, not lying along a
    side.
    """
    stats = marks.stats
    top, h = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_HEIGHT]
    tallest = float(h[digits].max())
    picture_height = marks.labels.shape[0]
    if tallest < TIGHT_CROP * picture_height:
        if not sides:
            return np.zeros_like(touching)
        # paper above and below the digits, but a crop's side may still run through the first or
        # the last of them (a number cropped close at its ends, a page turned in perspective): a mark
        # meeting only the left or the right side is looked at as one a tight crop cut
        contact = marks.contact()
        at_a_side = (contact["left"] + contact["right"] > 0) & (contact["top"] == 0) & (contact["bottom"] == 0)
        touching = touching & at_a_side
    row_top, row_bottom = float(top[digits].min()), float((top + h)[digits].max())
    overlap = np.minimum(top + h, row_bottom) - np.maximum(top, row_top)
    in_the_row = overlap >= 0.5 * h
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    pen = float(np.average(marks.strokes[digits], weights=area[digits]))
    same_pen = (marks.strokes >= pen / SAME_PEN) & (marks.strokes <= pen * SAME_PEN)
    # no taller bound: a crop is cut to the tallest digits, so those it cuts are often the tallest, and
    # a row's digits differ in height more than by CUT_TALLER (a small 2 beside two 0s)
    sized = h >= (1.0 - CUT_TALLER) * tallest
    sized &= stats[:, cv2.CC_STAT_WIDTH] <= WIDEST * tallest
    return touching & in_the_row & same_pen & sized & _digit_shaped(marks)
