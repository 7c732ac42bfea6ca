"""Generated inputs that are not one digit: letters and symbols from fonts, scribbles, rows of digits.

Each generator returns a drawing as the drawing pad would give it: a (side, side) uint8 array,
white ink on black. `to_model_input` runs it through the product's own preprocessing (the canvas
path), so the "not a digit" detector is trained and measured on exactly what the digit model sees.
The training script and the benchmark call the same generators with different fonts, seeds and
parameters (see scripts/train_not_a_digit.py and bench/not_a_digit.py).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from digitcore.reading import preprocess

SIDE = 140  # the drawing's side in pixels (the drawing pad's work size, see preprocess.CANVAS_SIDE)
FONT_FOLDERS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

# Letters drawn exactly like a digit (O and 0, I and l and 1) are left out: no picture can tell them
# apart, and calling them non-digits would teach the detector to flag real zeros and ones.
DIGIT_LOOKALIKES = frozenset("OoIl")
LETTERS = tuple(letter for letter in string.ascii_letters if letter not in DIGIT_LOOKALIKES)
UPPERCASE = tuple(letter for letter in string.ascii_uppercase if letter not in DIGIT_LOOKALIKES)
# Symbols a visitor might draw or upload; "|", "/", "(", ")", "!" and the up and down arrows are left
# out for the same reason as "l": drawn by hand they are a one.
SYMBOLS = tuple("%#@&$+=?*<>{}~^§€£¥±×÷∞√πΩ≈≠♥★✓→←∑µ¶©®")


@dataclass(frozen=True)
class StrokeStyle:
    """How a glyph is drawn: font size, extra stroke (negative thins it), rotation and shear limits."""

    size: tuple[int, int] = (70, 110)
    stroke: tuple[int, int] = (-2, 5)
    rotation: float = 15.0  # degrees either way
    shear: float = 0.3
    squash: tuple[float, float] = (0.75, 1.3)  # width over height


def font_files(*name_prefixes: str) -> list[Path]:
    """TrueType/OpenType files installed on this machine whose file name starts with a prefix."""
    found = []
    for folder in FONT_FOLDERS:
        if folder.is_dir():
            found += [
                path
                for path in folder.rglob("*")
                if path.suffix.lower() in (".ttf", ".otf") and path.name.startswith(name_prefixes)
            ]
    return sorted(found)


def _font(font: Path | None, size: int) -> ImageFont.FreeTypeFont:
    """A font file at a size; None is Pillow's own built-in font (always there)."""
    return ImageFont.load_default(size) if font is None else ImageFont.truetype(str(font), size)


def _affine(
    drawing: Image.Image, rng: np.random.Generator, rotation: float, shear: float, squash: tuple[float, float]
) -> Image.Image:
    """Rotate, shear and stretch around the centre, as a hand tilts and leans its writing."""
    angle = np.deg2rad(rng.uniform(-rotation, rotation))
    lean = rng.uniform(-shear, shear)
    stretch = rng.uniform(*squash)
    forward = (
        np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        @ np.array([[1.0, lean], [0.0, 1.0]])
        @ np.diag([stretch, 1.0])
    )
    inverse = np.linalg.inv(forward)  # Image.transform maps output pixels back to input pixels
    centre = np.array(drawing.size, dtype=np.float64) / 2
    offset = centre - inverse @ centre
    coefficients = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    return drawing.transform(drawing.size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR)


def glyph(
    text: str, font: Path | None, rng: np.random.Generator, style: StrokeStyle = StrokeStyle(), side: int = SIDE
) -> np.ndarray:
    """`text` (a letter, a symbol) rendered in `font`, thickened or thinned, tilted and leaned."""
    size = int(rng.integers(*style.size))
    stroke = int(rng.integers(style.stroke[0], style.stroke[1] + 1))
    canvas = Image.new("L", (side * 2, side * 2), 0)  # room for the affine step, cropped below
    ImageDraw.Draw(canvas).text(
        (side, side), text, font=_font(font, size), fill=255, anchor="mm", stroke_width=max(stroke, 0), stroke_fill=255
    )
    if stroke < 0:  # thinner than the font: erode (MinFilter sizes are odd)
        canvas = canvas.filter(ImageFilter.MinFilter(2 * -stroke + 1))
    canvas = _affine(canvas, rng, style.rotation, style.shear, style.squash)
    return np.asarray(canvas.crop((side // 2, side // 2, side // 2 + side, side // 2 + side)))


def scribble(
    rng: np.random.Generator,
    side: int = SIDE,
    brush: tuple[int, int] = (4, 14),
    strokes: tuple[int, int] = (1, 4),
    turns: tuple[int, int] = (6, 16),
) -> np.ndarray:
    """Random pen movement: one to a few strokes, each a wandering line that turns many times."""
    canvas = Image.new("L", (side, side), 0)
    pen = ImageDraw.Draw(canvas)
    width = int(rng.integers(*brush))
    for _ in range(int(rng.integers(strokes[0], strokes[1] + 1))):
        count = int(rng.integers(*turns))
        kind = rng.integers(3)
        if kind == 0:  # a jagged zigzag between random points
            points = rng.uniform(0.1, 0.9, size=(count, 2)) * side
        elif kind == 1:  # a smooth wandering line: a random walk with momentum
            heading, position = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 0.7, size=2) * side
            points = []
            for _ in range(count * 4):
                heading += rng.normal(0, 0.6)
                position = np.clip(
                    position + 8 * np.array([np.cos(heading), np.sin(heading)]), 0.05 * side, 0.95 * side
                )
                points.append(position.copy())
            points = np.array(points)
        else:  # hatching: parallel or crossing straight lines
            angle = rng.uniform(0, np.pi)
            direction = np.array([np.cos(angle), np.sin(angle)])
            normal = np.array([-direction[1], direction[0]])
            for offset in np.linspace(-0.3, 0.3, max(3, count // 3)) * side:
                middle = side / 2 + normal * offset
                pen.line(
                    [tuple(middle - direction * 0.35 * side), tuple(middle + direction * 0.35 * side)],
                    fill=255,
                    width=width,
                )
            continue
        pen.line([tuple(point) for point in points], fill=255, width=width, joint="curve")
    return np.asarray(canvas)


def digit_row(
    digits: list[np.ndarray], rng: np.random.Generator, side: int = SIDE, gap: tuple[float, float] = (-0.1, 0.4)
) -> np.ndarray:
    """Several MNIST digits (28, 28) uint8 written side by side, as in "42", with random spacing."""
    if len(digits) < 2:
        raise ValueError("A row of digits needs at least two digits.")
    pieces = []
    for digit in digits:
        columns = np.flatnonzero(np.asarray(digit).max(axis=0) > 0)
        pieces.append(np.asarray(digit)[:, columns.min() : columns.max() + 1] if len(columns) else np.asarray(digit))
    widths = [piece.shape[1] for piece in pieces]
    gaps = [int(round(rng.uniform(*gap) * 20)) for _ in pieces[1:]]
    total = sum(widths) + sum(gaps)
    row = np.zeros((28, max(total, 28)), dtype=np.uint8)
    left = 0
    for index, piece in enumerate(pieces):
        row[:, left : left + piece.shape[1]] = np.maximum(row[:, left : left + piece.shape[1]], piece)
        left += piece.shape[1] + (gaps[index] if index < len(gaps) else 0)
    scale = side * 0.9 / row.shape[1]
    size = (int(row.shape[1] * scale), max(1, int(28 * scale)))
    canvas = np.zeros((side, side), dtype=np.uint8)
    scaled = np.asarray(Image.fromarray(row).resize(size, Image.Resampling.BILINEAR))
    top, start = (side - size[1]) // 2, (side - size[0]) // 2
    canvas[top : top + size[1], start : start + size[0]] = scaled
    return canvas


def redraw(
    digit: np.ndarray,
    rng: np.random.Generator,
    side: int = SIDE,
    *,
    thickness: tuple[int, int] = (-1, 3),
    rotation: float = 10.0,
    shear: float = 0.25,
) -> np.ndarray:
    """An MNIST digit (28, 28) as a drawing: enlarged, thickened or thinned, tilted; white on black."""
    size = int(rng.integers(int(0.55 * side), int(0.85 * side)))
    enlarged = Image.fromarray(np.asarray(digit, dtype=np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (side * 2, side * 2), 0)
    canvas.paste(enlarged, (side - size // 2, side - size // 2))
    change = int(rng.integers(thickness[0], thickness[1] + 1))
    if change:
        canvas = canvas.filter((ImageFilter.MaxFilter if change > 0 else ImageFilter.MinFilter)(2 * abs(change) + 1))
    canvas = _affine(canvas, rng, rotation, shear, (0.85, 1.15))
    return np.asarray(canvas.crop((side // 2, side // 2, side // 2 + side, side // 2 + side)))


def to_model_input(drawing: np.ndarray) -> np.ndarray:
    """The (28, 28) float32 the digit model would see for this drawing (the product's canvas path).

    Raises preprocess.NoDigitFound when the product itself would refuse the drawing (too little ink).
    """
    return preprocess.to_mnist(np.asarray(drawing, dtype=np.uint8), kind="canvas").image
