"""MNIST-style preprocessing of canvas drawings, photos of digits on paper and MNIST-like digits.

The pipelines live here; decoding untrusted bytes is in digitcore.reading.decode and the array toolkit in
digitcore.reading.imageops. The names other modules import from here (decode, ImageError and its
subclasses, the upload limits, image_to_array, label_components) are re-exported unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from digitcore.reading.decode import (  # noqa: F401  (re-exported: the app, the CLI and tests import them from here)
    ACCEPTED_FORMATS,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    MIN_SIDE,
    WORK_SIDE,
    FileTooLarge,
    ImageError,
    ImageTooLarge,
    ImageTooSmall,
    ImageTooThin,
    NoDigitFound,
    NotAnImage,
    TruncatedImage,
    UnsupportedFormat,
    decode,
    flatten_alpha,
    image_to_array,
)
from digitcore.reading.imageops import (  # noqa: F401
    border,
    label_components,
    long_runs,
    luminance,
    max_filter,
    median,
    percentile,
    resize,
    stroke_width,
    trim,
    vertical_run_lengths,
)
from digitcore.reading.inputs import KINDS, checked_input, decide_kind  # noqa: F401  (KINDS re-exported)
from digitcore.reading.paper import (
    colour_aware_gray,
    coloured_paper_luminance,
    estimate_background,
    hysteresis_marks,
    ink_against_paper,
    ink_strength,
    paper_filter_radius,
    relative_ink,
)

CANVAS_SIDE = 140  # drawings from the drawing pad are clean: worked on at this size (the result is 20x20)
STEP_SIDE = 140  # longest side of the step images shown in the app
MNIST_BOX = 20  # MNIST fits each digit into 20x20, keeping its aspect ratio ...
MNIST_SIDE = 28  # ... and centres it by centre of mass in 28x28
MNIST_CENTRE = 14.0  # where the centre of mass of MNIST training digits sits (row and column index)
# MNIST strokes are about 2.8 px wide for a 20 px tall digit; thinner ink is thickened towards this.
TARGET_STROKE_RATIO = 0.12
MIN_STROKE_RATIO = 0.075
MIN_INK_PIXELS = 12  # fewer marked pixels than this is a speck, not a digit
DOT_RATIO = 2.5  # ink no longer than this many stroke widths is a dot or a blob (a 0 is about 4)
# Ruled and grid lines of notebook paper run across most of the picture; a digit's strokes do not.
EDGE_FRAME = 0.12  # marks entirely within this fraction of the picture's edges ...
EDGE_MARGIN = 0.15  # ... belong to the digit only within this many digit sizes of it
CARD_FILL = 0.85  # ink covering this much of its bounding box is a filled patch (a card), not strokes
RULING_MIN_SPAN = 0.85  # a ruling line spans at least this fraction of the picture's width (or height)
RULING_BEYOND = 0.05  # ... and runs on past the digit on both sides by at least this fraction
RULING_RUN = 0.12  # ... and is found from straight runs at least this fraction of the width long
LINE_NOISE, LINE_SHARE = 2.0, 0.12  # ... in the marks this many times the noise and this share of the ink's strength


@dataclass
class Step:
    """One intermediate image of the pipeline, for display."""

    name: str
    title: str
    image: np.ndarray  # uint8 (h, w), at most STEP_SIDE on its longest side


@dataclass
class Preprocessed:
    """The model input and how it was made."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black
    steps: list[Step] = field(default_factory=list)
    kind: str = "canvas"  # "canvas" | "photo" | "mnist": the path that was used


def _to_step_image(image: np.ndarray, *, normalise: bool = False) -> np.ndarray:
    """A float [0, 1] (or uint8) array as a small uint8 image for display."""
    values = np.asarray(image, dtype=np.float32)  # (never changed in place below: no copy needed)
    if image.dtype == np.uint8:
        values = values / 255.0
    if normalise and values.max() > 0:
        values = values / values.max()
    height, width = values.shape
    scale = STEP_SIDE / max(height, width)
    if scale < 1.0:
        values = resize(values, max(1, round(width * scale)), max(1, round(height * scale)))
    return np.clip(np.round(values * 255), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# MNIST-style preprocessing


def to_mnist(image: Image.Image | np.ndarray, kind: str = "auto") -> Preprocessed:
    """Turn a drawing, a photo of a digit on paper, or an MNIST-like digit into the model input.

    Steps: grayscale, polarity (white ink on black), background removal and threshold (photos
    also get their lighting evened out and specks dropped), the ink's bounding box, a fit into
    20x20 keeping the aspect ratio, and a shift putting the centre of mass at the centre of 28x28.
    Raises NoDigitFound for blank or nearly blank input and ImageTooSmall for tiny images.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    image = _shrink_canvas_rgba(image, kind)
    arrays = checked_input(image)
    colour, alpha, had_transparency = arrays.colour, arrays.alpha, arrays.had_transparency
    height, width = colour.shape[:2]
    colour = flatten_alpha(
        colour,
        alpha,
        empty_message=(
            "The canvas is empty (fully transparent). Draw a digit first."
            if kind == "canvas"
            else "No digit found: the picture is fully transparent. Draw or photograph one digit."
        ),
    )
    colour = _shrink(colour, WORK_SIDE)
    # A blank picture is "an empty canvas" only to someone who drew on the canvas; an upload read as a
    # drawing (flat background) is a photo or file to its owner.
    blank = (
        "the canvas is empty or one uniform colour"
        if kind == "canvas"
        else "the picture is blank or one uniform colour"
    )
    if kind == "auto":
        kind = decide_kind(colour, had_transparency)
    steps: list[Step] = []
    if kind == "photo" and colour.shape[-1] == 3:
        gray = colour_aware_gray(colour)
        steps.append(
            Step(
                "grayscale", "Grayscale (the channel where the ink is darkest against the paper)", _to_step_image(gray)
            )
        )
    else:
        gray = luminance(colour)
        steps.append(Step("grayscale", "Grayscale", _to_step_image(gray)))
    if kind == "mnist":
        ink = _mnist_ink(colour, gray, steps)
        return Preprocessed(image=ink, steps=steps, kind=kind)
    if kind == "canvas":
        ink, mask = _canvas_ink(colour, gray, steps, blank)
    else:
        plain = coloured_paper_luminance(colour, gray)
        ink, mask = _photo_ink(gray, steps, plain)
    card = _card_inside(mask)
    if card is not None:
        # The "ink" is a filled patch (a sheet or a sticky note on a dark desk, a coloured box on a
        # canvas): the digit is written on it, so it is read again inside the patch, once.
        # A patch with nothing inside is the digit itself (a 1 drawn with a huge brush): keep it.
        top, bottom, left, right = card
        inner_colour, inner_gray = colour[top:bottom, left:right], gray[top:bottom, left:right]
        inner_steps = [Step("card", "The digit is on a card or sheet: read inside it", _to_step_image(inner_gray))]
        try:
            if kind == "canvas":
                inner = _canvas_ink(inner_colour, inner_gray, inner_steps, blank)
            else:
                inner = _photo_ink(inner_gray, inner_steps, None if plain is None else plain[top:bottom, left:right])
        except NoDigitFound:
            inner = None
        if inner is not None:
            ink, mask = inner
            steps.extend(inner_steps)
    digit = _fit_and_centre(ink, mask, steps)
    return Preprocessed(image=digit, steps=steps, kind=kind)


def _shrink_canvas_rgba(image, kind: str):
    """A uint8 RGBA array (what the drawing pad returns) shrunk to CANVAS_SIDE in one Pillow call.

    This is the fast path for drawing (a photo belongs in a Pillow image, not an RGBA array).
    Pillow resizes RGBA with premultiplied alpha, so the colour of transparent pixels cannot bleed in.
    """
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[-1] != 4
        or kind not in ("auto", "canvas")
        or max(image.shape[:2]) <= CANVAS_SIDE
        or min(image.shape[:2]) < MIN_SIDE
    ):
        return image
    height, width = image.shape[:2]
    scale = CANVAS_SIDE / max(height, width)
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return np.asarray(Image.fromarray(image, mode="RGBA").resize(size, Image.Resampling.BOX))


def _shrink(colour: np.ndarray, side: int) -> np.ndarray:
    """Area-average (h, w, c) inputs larger than `side` on their longest side down to it."""
    height, width = colour.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return colour
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    channels = [resize(colour[..., c], *size) for c in range(colour.shape[-1])]
    return np.stack(channels, axis=-1)


def _card_inside(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) inside a solid patch that the ink mask found instead of strokes, or None.

    Strokes cover a small part of their bounding box (a 0 about a third, an 8 about half); a patch
    of paper or card covers nearly all of it. The box is shrunk by a tenth of the patch on each
    side so that the patch's own edges are not read as ink.
    """
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    fill = float(mask[top:bottom, left:right].mean())
    inset_rows, inset_cols = (bottom - top) // 10, (right - left) // 10
    if fill < CARD_FILL or min(bottom - top, right - left) - 2 * max(inset_rows, inset_cols) < 4 * MIN_SIDE:
        return None
    return top + inset_rows, bottom - inset_rows, left + inset_cols, right - inset_cols


def _blank_check(strength: float, signal_to_noise: float, what: str) -> None:
    """Refuse ink that is too faint in absolute terms or against the noise (in units of sigma)."""
    if strength < 0.08 or signal_to_noise < 6.0:
        raise NoDigitFound(f"No digit found: {what}. Draw or photograph one digit, dark on light or light on dark.")


def _mnist_ink(colour: np.ndarray, gray: np.ndarray, steps: list[Step]) -> np.ndarray:
    """A small crop (at most 40 px): fix the polarity, remove the paper's grain, refit only if needed.

    A crop that already looks like MNIST (a clean background, the ink's box about 20 px in 28x28,
    centred) passes through unchanged. Crops of paper (a grey background with grain, ink that is
    light on grey or dark on grey, a digit smaller or larger than MNIST's) get the paper's noise
    level subtracted and are fitted and centred like any other digit.
    """
    background = _plane_background(gray)  # a crop of paper is often lit more on one side
    residual = border(gray - background)
    noise = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))  # the grain (0 on a clean image)
    deviation = gray - background
    # the polarity whose marks stand out most beyond the grain: not the background's brightness, as
    # light strokes on grey paper and dark strokes on light grey paper have similar backgrounds
    dark = float(np.clip(-deviation - 3 * noise, 0, None).sum())
    light = float(np.clip(deviation - 3 * noise, 0, None).sum())
    inverted = dark > light
    ink = np.clip((-deviation if inverted else deviation) - 2.5 * noise, 0.0, None)
    strength = float(ink.max())
    _blank_check(strength, strength / noise if noise > 0 else np.inf, "the image is one uniform colour")
    ink = ink / strength
    steps.append(
        Step(
            "polarity",
            "White ink on black" + (" (inverted)" if inverted else "") + (", paper grain removed" if noise > 0 else ""),
            _to_step_image(ink),
        )
    )
    if ink.shape == (MNIST_SIDE, MNIST_SIDE) and _looks_like_mnist(ink):
        steps.append(Step("centre", "28x28 model input", _to_step_image(ink)))
        return ink.astype(np.float32)
    mask = _drop_specks(ink > 0.25, ink)
    return _fit_and_centre(np.where(max_filter(mask, 1), ink, 0.0), mask, steps)


def _plane_background(gray: np.ndarray) -> np.ndarray:
    """The brightness of the paper around a small crop as a plane a + b*row + c*column, fitted to the
    frame robustly (refitted without the frame pixels furthest from the first fit, where ink touches it)."""
    height, width = gray.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    frame_rows, frame_cols, frame_values = border(rows), border(cols), border(gray).astype(np.float64)
    design = np.stack([np.ones_like(frame_rows), frame_rows, frame_cols], axis=1)
    keep = np.ones(len(frame_values), dtype=bool)
    for _ in range(2):
        coefficients = np.linalg.lstsq(design[keep], frame_values[keep], rcond=None)[0]
        error = np.abs(design @ coefficients - frame_values)
        keep = error <= np.percentile(error, 75)
    return (coefficients[0] + coefficients[1] * rows + coefficients[2] * cols).astype(np.float32)


def _looks_like_mnist(ink: np.ndarray) -> bool:
    """Whether a 28x28 digit is already fitted as MNIST's are: its box 17-23 px on its longest side, centred."""
    rows, cols = np.nonzero(ink > 0.25)
    if len(rows) == 0:
        return False
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    weights = ink[rows, cols]
    centre = (float((rows * weights).sum() / weights.sum()), float((cols * weights).sum() / weights.sum()))
    return 17 <= extent <= 23 and max(abs(centre[0] - MNIST_CENTRE), abs(centre[1] - MNIST_CENTRE)) <= 3.0


def _canvas_ink(
    colour: np.ndarray, gray: np.ndarray, steps: list[Step], blank: str = "the canvas is empty or one uniform colour"
) -> tuple[np.ndarray, np.ndarray]:
    """Ink as the colour distance from the flat background: any stroke and background colours work.
    `blank` says what a picture with no ink is, in the person's words."""
    background = np.median(border(colour), axis=0)  # (c,)
    ink = np.sqrt(np.mean((colour - background) ** 2, axis=-1))
    strength = float(ink.max())
    _blank_check(strength, np.inf, blank)
    ink = ink / strength
    inverted = float(luminance(background[None, None, :])[0, 0]) > float(gray[ink > 0.5].mean())
    steps.append(Step("polarity", "White ink on black" + (" (inverted)" if inverted else ""), _to_step_image(ink)))
    # a clean scan or a low-noise photo of notebook paper looks like a drawing: its rulings, level,
    # tilted or bent, are removed as a photo's are (only when separate marks cross the picture:
    # drawings keep their speed, and a digit drawn large is never cut as if it were lines)
    marks = ink > 0.3
    if _crosses_the_picture(marks):
        ink, ruled = _remove_rulings(ink, marks)
    else:
        ink, ruled = _remove_ruled_lines(ink, marks)
    if ruled.any():
        steps.append(Step("lines", "Ruled lines removed", _to_step_image(ink)))
    mask = ink > 0.3
    mask = _drop_specks(mask, ink)
    if not mask.any():
        raise NoDigitFound("No digit found: only a few specks are on the canvas. Draw a digit.")
    ink = np.where(max_filter(mask, 1), ink, 0.0)
    steps.append(Step("threshold", "Background removed", _to_step_image(ink)))
    return ink, mask


def _photo_ink(
    gray: np.ndarray, steps: list[Step], plain_gray: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Even out lighting and shadows, pick the polarity, threshold with hysteresis above the paper's noise.

    A first pass against a smooth background estimate finds the polarity and the stroke width.
    The second pass uses a morphological closing (an opening for light ink) as the background: it
    fills dark strokes up to a few widths wide but keeps shadow edges, so they leave no false ink.
    With `plain_gray` (the luminance of a colour photo, `gray` being its darkest channel), the ink
    is the stronger of the two at each pixel: the darkest channel shows a coloured pen best, but
    where the paper is coloured that channel is dark already and a gray pencil crossing it vanishes
    there, while its luminance still shows the pencil.
    """
    ink, noise, inverted = relative_ink(gray, estimate_background(gray), None)
    strength = ink_strength(ink)
    _blank_check(strength, ink_strength(ink / noise), "the photo shows no marks that stand out from the paper")
    # ruled lines would make every stroke look as thin as they are
    ink, _ = _remove_ruled_lines(ink, ink > np.maximum(3.0 * noise, 0.2 * strength))  # level ones suffice here
    first_mask = _hysteresis(ink, noise, strength)
    width = stroke_width(first_mask) if first_mask.any() else 3.0
    ink, noise = ink_against_paper(gray, plain_gray, paper_filter_radius(width, gray.shape), inverted)
    steps.append(
        Step(
            "polarity",
            "Lighting evened out, white ink on black" + (" (inverted)" if inverted else ""),
            _to_step_image(ink, normalise=True),
        )
    )
    strength = ink_strength(ink)
    _blank_check(strength, ink_strength(ink / noise), "the photo shows no marks that stand out from the paper")
    # Rulings are looked for in a fainter threshold than the digit's: a grid printed as light as a
    # pencil breaks up at the digit's threshold into pieces too short to be told for lines, and
    # those left join the digit to the picture's edge
    ink, ruled = _remove_rulings(ink, ink > np.maximum(LINE_NOISE * noise, LINE_SHARE * strength))
    if ruled.any():
        steps.append(Step("lines", "Ruled lines removed", _to_step_image(ink, normalise=True)))
        strength = ink_strength(ink)
    # a digit cut by a tight crop is told from a line by its pen and its row, which the pieces that
    # rulings leave where they cross the edge share: on ruled paper, what touches the edge goes
    mask = _hysteresis(ink, noise, strength, drop_border=True, keep_cut_digits=not ruled.any(), stroke=width)
    mask = _drop_specks(mask, ink)
    if mask.sum() < MIN_INK_PIXELS:
        raise NoDigitFound(
            "No digit found: the photo shows only specks. Photograph one digit, filling more of the frame."
        )
    ink = np.where(max_filter(mask, 1), np.clip(ink / strength, 0.0, 1.0), 0.0)
    steps.append(Step("threshold", "Background removed, specks dropped", _to_step_image(ink)))
    return ink, mask


def _crosses_the_picture(marks: np.ndarray) -> bool:
    """Whether separate marks (two or more) cross the picture from side to side, as rulings and
    grid lines do, or marks meet two opposite sides at two places or more each (rulings that the
    digit or a margin line joins into one mark); a digit is one mark, and a large one drawn on the
    pad may touch two opposite sides but is never taken for lines. The cheap test before looking
    for lines at every tilt."""
    if not ((marks[:, 0].any() and marks[:, -1].any()) or (marks[0].any() and marks[-1].any())):
        return False
    if min(_runs(marks[:, 0]), _runs(marks[:, -1])) >= 2 or min(_runs(marks[0]), _runs(marks[-1])) >= 2:
        return True
    _, _, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    height, width = marks.shape
    left, top = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    across = (left == 0) & (left + stats[1:, cv2.CC_STAT_WIDTH] == width)
    down = (top == 0) & (top + stats[1:, cv2.CC_STAT_HEIGHT] == height)
    return int(np.count_nonzero(across | down)) >= 2


def _runs(edge: np.ndarray) -> int:
    """How many separate runs of marks lie along one edge of the picture."""
    return int(np.count_nonzero(np.diff(edge.astype(np.int8), prepend=0) == 1))


def _remove_rulings(ink: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A photo's rulings removed: level ones first (below), then what the page stage finds of lines
    photographed at a tilt or bent by the page (digitcore.reading.page.ruling_lines), which run past
    the digit as level ones do."""
    from digitcore.reading.page import darker_ink_kept, ruling_lines

    ink, removed = _remove_ruled_lines(ink, marks)
    tilted = darker_ink_kept(ruling_lines(marks & ~removed), ink)
    if not tilted.any():
        return ink, removed
    return np.where(tilted, 0.0, ink).astype(np.float32), removed | tilted


def _remove_ruled_lines(ink: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove the ruled or grid lines of notebook paper from the ink map, without cutting the digit.

    A ruling line is a thin straight mark that runs across the picture and on past the digit on
    both sides; a stroke of the digit (the bar of a 7, 4 or 5, the base of a 2, a whole 1) ends
    where the rest of the digit does. Along a line, only the pixels whose run of marks across the
    line is about as thick as the line are removed: where a stroke crosses the line (or lies along
    it and is thicker), the run is longer and the pixels stay. Returns the ink without the lines and
    the mask of what was removed.
    """
    horizontal = _line_candidates(marks)
    # the columns of squared paper, laid out as rows in memory: shifting a transposed view is four times slower
    vertical = _line_candidates(np.ascontiguousarray(marks.T))
    if not horizontal[2] and not vertical[2]:
        return ink, np.zeros_like(marks)  # plain paper: no line spans the picture
    everything_straight = horizontal[0] | vertical[0].T
    rest = marks & ~everything_straight  # the digit, without any long straight part of it ...
    labels, sizes = label_components(rest)
    sizes[0] = 0
    if sizes.max() == 0:
        return ink, np.zeros_like(marks)  # nothing but lines: nothing is known to be a ruling
    rest = labels == int(np.argmax(sizes))  # ... its main body, not the crumbs where lines cross or fray
    removed = np.zeros_like(marks)
    for (_candidates, labels, groups), transpose in ((horizontal, False), (vertical, True)):
        if not groups:
            continue
        these_marks, these_rest = (marks.T, rest.T) if transpose else (marks, rest)
        lines, thickness = _rulings_past(these_rest, labels, groups)
        if not lines.any():
            continue
        cut = lines & (vertical_run_lengths(these_marks) <= thickness + 2)
        removed |= cut.T if transpose else cut
    if not removed.any():
        return ink, removed
    return np.where(removed, 0.0, ink).astype(np.float32), removed


def _line_candidates(marks: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[list]]:
    """Thin horizontal lines spanning RULING_MIN_SPAN of the width: their mask, the labels of the
    straight pieces and the pieces grouped by line, each piece (top, bottom, columns, thickness, label).

    A digit crossing a line can cut it into pieces, so thin pieces that share rows are taken
    together when measuring how far the line runs.
    """
    height, width = marks.shape
    runs = long_runs(marks, max(8, round(RULING_RUN * width)))
    # A line's pieces all lie in columns where some long run is: if those columns do not span a
    # line's width (a 7's bar, a 2's base on plain paper), there is no line and nothing to label.
    if runs.any(axis=0).sum() < RULING_MIN_SPAN * width:
        return np.zeros_like(marks), np.zeros(marks.shape, np.int32), []
    labels, _ = label_components(runs)
    pieces = []
    for label in np.unique(labels[labels > 0]):
        component = labels == label
        columns = component.any(axis=0)
        # strokes of the digit (and the other lines they join) add a few thick places: the median
        # over the columns of the thinnest run in each ignores them
        column_runs = np.where(component, vertical_run_lengths(component), np.iinfo(np.int32).max)
        thickness = float(np.median(column_runs.min(axis=0)[columns]))
        if thickness <= max(4.0, 0.025 * height):  # (a faint threshold widens a line by a pixel)
            rows = np.nonzero(component.any(axis=1))[0]
            pieces.append((rows[0], rows[-1], columns, thickness, label))
    pieces.sort(key=lambda piece: piece[0])
    groups: list[list] = []
    for piece in pieces:  # merge pieces whose rows overlap: one line cut by the digit
        if groups and piece[0] <= max(p[1] for p in groups[-1]):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    groups = [
        group
        for group in groups
        if np.logical_or.reduce([piece[2] for piece in group]).sum() >= RULING_MIN_SPAN * width
    ]
    candidates = np.isin(labels, [piece[4] for group in groups for piece in group])
    return candidates, labels, groups


def _rulings_past(rest: np.ndarray, labels: np.ndarray, groups: list[list]) -> tuple[np.ndarray, int]:
    """The candidate lines that run on past the rest of the ink on both sides, and their thickness."""
    width = rest.shape[1]
    margin = RULING_BEYOND * width
    left, right = np.percentile(np.nonzero(rest.any(axis=0))[0], [2, 98])
    lines = np.zeros(rest.shape, dtype=bool)
    thicknesses = []
    for group in groups:
        covered = np.nonzero(np.logical_or.reduce([piece[2] for piece in group]))[0]
        if covered[0] <= left - margin and covered[-1] >= right + margin:
            lines |= np.isin(labels, [piece[4] for piece in group])
            thicknesses.extend(piece[3] for piece in group)
    return lines, int(np.ceil(max(thicknesses))) if thicknesses else 0


def _hysteresis(
    ink: np.ndarray,
    noise: np.ndarray,
    strength: float,
    *,
    drop_border: bool = False,
    keep_cut_digits: bool = False,
    stroke: float | None = None,
) -> np.ndarray:
    """Pixels above a low threshold that are connected to pixels above a high one (both above the noise).

    With `drop_border`, what runs off the picture is dropped (see below); `stroke`, the strokes'
    width, tells the crumbs that are no digit from a small digit there."""
    labels, keep = hysteresis_marks(ink, noise, strength)
    if drop_border:
        # What runs off the picture (the paper's edge, a table) is not the digit, which has paper
        # around it; drop it unless nothing else is left, or it is a digit that a tight crop cut
        # (the page stage's rule: in the row of the digits, as tall, the same pen, digit-shaped).
        from digitcore.reading.page import digits_cut_by_a_tight_crop

        touching = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        inside = keep.copy()
        inside[touching] = False
        # ... unless all inside is crumbs (where a grid's lines cross), none as long as a digit's
        # shortest (a dot's DOT_RATIO stroke widths): a line that stayed can join the digit to the edge
        if inside.any() and stroke is not None and _all_dots(labels, np.nonzero(inside)[0], stroke):
            inside[:] = False
        # (with nothing kept touching the edge there is no cut digit to look for: most photos)
        if inside.any() and keep_cut_digits and keep[touching].any():
            return inside[labels] | digits_cut_by_a_tight_crop(keep[labels])
        if inside.any():
            keep = inside
    return keep[labels]


def _all_dots(labels: np.ndarray, chosen: np.ndarray, stroke: float) -> bool:
    """Whether every one of the `chosen` labelled marks spans fewer than DOT_RATIO stroke widths."""
    rows, cols = np.nonzero(np.isin(labels, chosen))
    which = labels[rows, cols]
    longest = DOT_RATIO * stroke
    for label in chosen:
        these = which == label
        if max(np.ptp(rows[these]), np.ptp(cols[these])) + 1 >= longest:
            return False
    return True


def _drop_specks(mask: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Keep the biggest ink component and the ones near it that are not tiny; drop the rest."""
    labels, sizes = label_components(mask)
    if len(sizes) <= 2:
        return mask
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=len(sizes))
    mass[0] = 0.0
    largest = int(np.argmax(mass))
    rows, cols = np.nonzero(labels == largest)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    extent = max(bottom - top, right - left) + 1
    # parts of the digit lie within about half a digit of the main stroke (the bar of a 5 or a 4)
    margin = 0.6 * extent
    keep = np.zeros(len(sizes), dtype=bool)
    keep[largest] = True
    height, width = mask.shape
    frame_rows, frame_cols = EDGE_FRAME * height, EDGE_FRAME * width
    for label in np.nonzero(mass >= 0.08 * mass[largest])[0]:
        if label == 0 or label == largest:
            continue
        r, c = np.nonzero(labels == label)
        # a mark lying in the picture's outer frame (a pen stroke at the edge of the paper, a
        # speck on the scanner) belongs to the digit only if it nearly touches it
        in_frame = (
            r.max() < frame_rows
            or r.min() >= height - frame_rows
            or c.max() < frame_cols
            or c.min() >= width - frame_cols
        )
        reach = EDGE_MARGIN * extent if in_frame else margin
        if (
            r.max() >= top - reach
            and r.min() <= bottom + reach
            and c.max() >= left - reach
            and c.min() <= right + reach
        ):
            keep[label] = True
    return keep[labels]


def fit_and_centre(ink: np.ndarray, mask: np.ndarray, steps: list[Step] | None = None) -> np.ndarray:
    """The 28x28 model input for one digit's ink (white on black) and mask: the preparation every
    reader shares (one digit here, each digit of a number in digitcore.reading.number). Appends its
    steps (ink box, fit, centre) to `steps` when given; raises NoDigitFound for a dot or a blob."""
    return _fit_and_centre(ink, mask, steps)


def _fit_and_centre(ink: np.ndarray, mask: np.ndarray, steps: list[Step] | None) -> np.ndarray:
    """Crop to the ink box, thicken hair-thin strokes, fit into 20x20, centre by mass in 28x28.

    The step images are drawn only for a list to put them in: the number reader prepares every way
    of cutting every glyph and shows the steps of the chosen digits only (ReadDigit.steps draws them)."""
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    if steps is not None:
        box_view = ink.copy()  # the ink with its box drawn in mid-gray
        box_view[top:bottom, [left, right - 1]] = np.maximum(box_view[top:bottom, [left, right - 1]], 0.5)
        box_view[[top, bottom - 1], left:right] = np.maximum(box_view[[top, bottom - 1], left:right], 0.5)
        steps.append(Step("ink_box", "Ink bounding box", _to_step_image(box_view)))
    pad = 2
    crop = ink[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad]
    crop_mask = mask[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad]
    extent = max(bottom - top, right - left)
    width = stroke_width(crop_mask)
    if extent < DOT_RATIO * width or mask.sum() < MIN_INK_PIXELS:
        raise NoDigitFound("No digit found: there is only a dot or a blob. Draw or write a whole digit.")
    if width < MIN_STROKE_RATIO * extent:
        # thin pen or brush: grow the strokes towards MNIST's proportions before shrinking
        radius = max(1, round((TARGET_STROKE_RATIO * extent - width) / 2))
        crop = max_filter(np.pad(crop, radius), radius)
    crop = trim(crop)
    height, width_px = crop.shape
    scale = MNIST_BOX / max(height, width_px)
    size = (max(1, round(width_px * scale)), max(1, round(height * scale)))
    fitted = np.clip(resize(crop, *size, Image.Resampling.LANCZOS if scale > 0.5 else Image.Resampling.BOX), 0, None)
    peak = float(fitted.max())
    if peak <= 0:
        raise NoDigitFound("No digit found: the ink is too faint. Draw or write the digit darker.")
    fitted = np.clip(fitted / peak, 0.0, 1.0)
    if steps is not None:
        boxed = np.zeros((MNIST_BOX, MNIST_BOX), dtype=np.float32)
        boxed[
            (MNIST_BOX - size[1]) // 2 : (MNIST_BOX - size[1]) // 2 + size[1],
            (MNIST_BOX - size[0]) // 2 : (MNIST_BOX - size[0]) // 2 + size[0],
        ] = fitted
        steps.append(Step("fit", "Fitted into 20x20", _to_step_image(boxed)))
    digit = _place_by_mass(fitted)
    if steps is not None:
        steps.append(Step("centre", "Centred by mass in 28x28", _to_step_image(digit)))
    return digit


def _place_by_mass(fitted: np.ndarray) -> np.ndarray:
    """Paste the fitted digit into 28x28 so its centre of mass lands where MNIST's does."""
    height, width = fitted.shape
    total = float(fitted.sum())
    row_mass = float((fitted.sum(axis=1) * np.arange(height)).sum()) / total
    col_mass = float((fitted.sum(axis=0) * np.arange(width)).sum()) / total
    top = int(np.clip(round(MNIST_CENTRE - row_mass), 0, MNIST_SIDE - height))
    left = int(np.clip(round(MNIST_CENTRE - col_mass), 0, MNIST_SIDE - width))
    digit = np.zeros((MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    digit[top : top + height, left : left + width] = fitted
    return digit
