"""Untrusted image decoding and MNIST-style preprocessing of canvas drawings, photos and digits."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter, ImageOps

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MB: a phone photo is 2-6 MB
MAX_PIXELS = 40_000_000  # about 7300x5500; checked from the header, before any decoding
MIN_SIDE = 8  # pixels: smaller images cannot hold a readable digit
ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
KINDS = ("auto", "canvas", "photo", "mnist")

WORK_SIDE = 800  # larger inputs are shrunk to this longest side first: a digit needs far fewer pixels
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


# Pillow only warns between its MAX_IMAGE_PIXELS and twice that; here any such image is refused
# (MAX_PIXELS is lower still and checked from the header before decoding).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class ImageError(ValueError):
    """An image that cannot be used; str(error) tells a person what to do instead."""


class FileTooLarge(ImageError):
    """The file has more bytes than MAX_UPLOAD_BYTES."""


class ImageTooLarge(ImageError):
    """The image has more pixels than MAX_PIXELS (possibly a decompression bomb)."""


class NotAnImage(ImageError):
    """The bytes are empty or not an image at all."""


class UnsupportedFormat(ImageError):
    """An image in a format outside ACCEPTED_FORMATS."""


class TruncatedImage(ImageError):
    """An image whose data ends early or is damaged."""


class ImageTooSmall(ImageError):
    """An image too small to hold a digit."""


class NoDigitFound(ImageError):
    """A blank or nearly blank image: an empty canvas, a white sheet, a uniform photo."""


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


# ---------------------------------------------------------------------------------------------
# Decoding untrusted bytes


def decode(data: bytes) -> Image.Image:
    """Decode an uploaded file into a loaded "L" or "RGB" image, safely.

    Checks the byte size, the format and the pixel count (from the header, before decoding), takes
    the first frame of an animation, applies the EXIF orientation, flattens transparency onto a
    background that contrasts with the ink, and scales 16-bit and float pixels to 8 bits. Pictures
    larger than 1600 pixels on a side come back shrunk by a whole factor (JPEGs decode that way).
    """
    if not data:
        raise NotAnImage("The file is empty. Choose an image file (PNG, JPEG, GIF, BMP or WebP).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileTooLarge(
            f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MB. "
            "Crop the photo around the digit or save it at a lower resolution."
        )
    try:
        # Only the accepted formats' parsers ever see the bytes.
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(_too_large_message(None)) from None
    except Image.UnidentifiedImageError:
        other = _sniff_other_format(data)
        if other:
            raise UnsupportedFormat(
                f"{other} images are not accepted. Save or export the picture as PNG or JPEG and retry."
            ) from None
        raise NotAnImage(
            "This file is not an image (is it a renamed document?). Choose a PNG, JPEG, GIF, BMP or WebP image."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise TruncatedImage(f"The image header is damaged ({error}). Save the image again and retry.") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(_too_large_message(image.size))
    if min(width, height) < MIN_SIDE:
        raise ImageTooSmall(
            f"The image is only {width}x{height} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE}. "
            "Use a larger picture of the digit."
        )
    if image.format == "JPEG" and max(width, height) > 2 * WORK_SIDE:
        # JPEG can decode at 1/2, 1/4 or 1/8 scale directly: a phone photo needs far fewer pixels
        side = max(width, height)
        image.draft(image.mode, (max(1, width * WORK_SIDE // side), max(1, height * WORK_SIDE // side)))
    try:
        image.seek(0)  # the first frame of an animation
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(_too_large_message(image.size)) from None
    except Exception as error:  # any parser failure on untrusted bytes means a damaged file
        raise TruncatedImage(
            f"The image data is incomplete or damaged ({type(error).__name__}: {str(error)[:120]}). "
            "Upload the complete file again."
        ) from None
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # a broken EXIF block must not cost the picture: keep it unrotated
        pass
    factor = max(image.size) // (2 * WORK_SIDE)
    if factor >= 2:  # bound the memory of everything downstream; a digit needs far fewer pixels
        if image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image = image.reduce(factor)
    if image.mode in ("L", "RGB"):
        return image
    colour, alpha = image_to_array(image)
    flat = _flatten_alpha(colour, alpha, empty_message=(
        "The image is fully transparent: there is nothing to read. Draw or photograph a digit."))
    pixels = np.round(flat * 255).astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


_OTHER_FORMATS = (
    (0, b"II*\x00", "TIFF"), (0, b"MM\x00*", "TIFF"), (4, b"ftypheic", "HEIC"), (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"), (4, b"ftypavif", "AVIF"), (0, b"8BPS", "Photoshop"), (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"%PDF", "PDF"), (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"), (0, b"<svg", "SVG"),
)


def _sniff_other_format(data: bytes) -> str | None:
    """The name of a known image format outside ACCEPTED_FORMATS, from its first bytes, or None."""
    for offset, magic, name in _OTHER_FORMATS:
        if data[offset:offset + len(magic)] == magic:
            return name
    return None


def _too_large_message(size: tuple[int, int] | None) -> str:
    described = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
    return (f"The image has {described}; the limit is {MAX_PIXELS / 1e6:.0f} million. "
            "Crop it around the digit or scale it down and retry.")


def image_to_array(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour (h, w, 1 or 3) and alpha (h, w) or None, float32 in [0, 1], for any Pillow mode.

    16-bit and 32-bit modes are scaled to their range instead of clipped at 255 as convert("L") does.
    """
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        return _scale_wide(values, mode)[..., None].astype(np.float32), None
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("PA", "RGBa", "La"):
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    if image.mode == "L":
        return pixels[..., None], None
    if image.mode == "RGB":
        return pixels, None
    return pixels[..., :-1], pixels[..., -1]  # LA or RGBA


def _scale_wide(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit, 32-bit integer or float pixels to [0, 1]."""
    if mode == "F":
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        values = np.nan_to_num(values, nan=low)
        if low >= 0.0 and high <= 1.0:
            return values
        if low >= 0.0 and high <= 255.0:
            return values / 255.0
    else:
        low, high = float(values.min()), float(values.max())
        if low >= 0 and high <= 65535:
            # a 16-bit image whose values all fit in 8 bits was saved from 8-bit data
            return values / (255.0 if high <= 255 else 65535.0)
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _luminance(colour: np.ndarray) -> np.ndarray:
    """(h, w, c) -> (h, w) ITU-R 601 luma, as Pillow's convert("L")."""
    if colour.shape[-1] == 1:
        return colour[..., 0]
    return colour[..., 0] * 0.299 + colour[..., 1] * 0.587 + colour[..., 2] * 0.114


def _flatten_alpha(colour: np.ndarray, alpha: np.ndarray | None, *, empty_message: str) -> np.ndarray:
    """Composite transparent pixels onto a background that contrasts with the visible ink.

    A drawing of white strokes on a transparent canvas would vanish on white, and black strokes
    would vanish on black, so the background is the opposite of the opaque pixels' mean brightness.
    """
    if alpha is None or float(alpha.min()) >= 0.99:
        return colour
    opaque = alpha > 0.5
    if not opaque.any():
        if float(alpha.max()) < 0.02:
            raise NoDigitFound(empty_message)
        opaque = alpha > 0.5 * float(alpha.max())
    ink_brightness = float(_luminance(colour)[opaque].mean())
    background = 0.0 if ink_brightness > 0.5 else 1.0
    weight = alpha[..., None]
    return colour * weight + background * (1.0 - weight)


# ---------------------------------------------------------------------------------------------
# Small array tools (numpy only: no SciPy or OpenCV in this project)


def _max_filter(image: np.ndarray, radius: int) -> np.ndarray:
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


def _box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1) square, with edge padding (cumulative sums)."""
    size = 2 * radius + 1
    padded = np.pad(image, radius, mode="edge").astype(np.float64)
    summed = padded.cumsum(0).cumsum(1)
    summed = np.pad(summed, ((1, 0), (1, 0)))
    total = summed[size:, size:] - summed[:-size, size:] - summed[size:, :-size] + summed[:-size, :-size]
    return (total / (size * size)).astype(np.float32)


def _resize(image: np.ndarray, width: int, height: int, resample=Image.Resampling.BOX) -> np.ndarray:
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
        labels[start_rows[run], starts[run]:ends[run]] = run_labels[run]
    sizes = np.bincount(run_labels, weights=end_cols - start_cols, minlength=run_labels.max() + 1)
    return labels, sizes.astype(np.int64)


def _to_step_image(image: np.ndarray, *, normalise: bool = False) -> np.ndarray:
    """A float [0, 1] (or uint8) array as a small uint8 image for display."""
    values = image.astype(np.float32)
    if image.dtype == np.uint8:
        values = values / 255.0
    if normalise and values.max() > 0:
        values = values / values.max()
    height, width = values.shape
    scale = STEP_SIDE / max(height, width)
    if scale < 1.0:
        values = _resize(values, max(1, round(width * scale)), max(1, round(height * scale)))
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
    colour, alpha = _input_arrays(image)
    height, width = colour.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ImageTooSmall(
            f"The image is only {width}x{height} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE}."
        )
    had_transparency = alpha is not None and float(alpha.min()) < 0.99
    colour = _flatten_alpha(colour, alpha, empty_message=(
        "The canvas is empty (fully transparent). Draw a digit first."))
    colour = _shrink(colour, WORK_SIDE)
    if kind == "auto":
        kind = _decide_kind(colour, had_transparency)
    steps: list[Step] = []
    gray = _luminance(colour)
    steps.append(Step("grayscale", "Grayscale", _to_step_image(gray)))
    if kind == "mnist":
        ink = _mnist_ink(colour, gray, steps)
        return Preprocessed(image=ink, steps=steps, kind=kind)
    if kind == "canvas":
        ink, mask = _canvas_ink(colour, gray, steps)
    else:
        ink, mask = _photo_ink(gray, steps)
    digit = _fit_and_centre(ink, mask, steps)
    return Preprocessed(image=digit, steps=steps, kind=kind)


def _shrink_canvas_rgba(image, kind: str):
    """A uint8 RGBA array (what the drawing pad returns) shrunk to CANVAS_SIDE in one Pillow call.

    This is the fast path for drawing (a photo belongs in a Pillow image, not an RGBA array).
    Pillow resizes RGBA with premultiplied alpha, so the colour of transparent pixels cannot bleed in.
    """
    if (not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 4
            or kind not in ("auto", "canvas") or max(image.shape[:2]) <= CANVAS_SIDE or min(image.shape[:2]) < MIN_SIDE):
        return image
    height, width = image.shape[:2]
    scale = CANVAS_SIDE / max(height, width)
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return np.asarray(Image.fromarray(image, mode="RGBA").resize(size, Image.Resampling.BOX))


def _input_arrays(image: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour (h, w, c) float32 [0, 1] and alpha or None from a Pillow image or an array."""
    if isinstance(image, Image.Image):
        factor = max(image.size) // WORK_SIDE
        if factor >= 2:  # shrink huge pictures before they become float arrays
            if image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
                image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode else "RGB")
            image = image.reduce(factor)
        return image_to_array(image)
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"Expected a 2-D grayscale, (h, w, 3) RGB or (h, w, 4) RGBA array, got shape {array.shape}."
        )
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif array.dtype == bool:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.number):
        values = np.nan_to_num(array.astype(np.float32))
        top = float(values.max()) if values.size else 0.0
        # floats in [0, 1] are taken as they are; larger values as 0-255 (or 0-65535) pixels
        if top > 255.0:
            values = values / 65535.0
        elif top > 1.0:
            values = values / 255.0
        values = np.clip(values, 0.0, 1.0)
    else:
        raise ValueError(f"Expected a numeric image array, got dtype {array.dtype}.")
    if values.ndim == 2:
        return values[..., None], None
    if values.shape[-1] == 4:
        return values[..., :3], values[..., 3]
    return values, None


def _shrink(colour: np.ndarray, side: int) -> np.ndarray:
    """Area-average (h, w, c) inputs larger than `side` on their longest side down to it."""
    height, width = colour.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return colour
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    channels = [_resize(colour[..., c], *size) for c in range(colour.shape[-1])]
    return np.stack(channels, axis=-1)


def _border(values: np.ndarray) -> np.ndarray:
    """The pixels of a frame 2% wide (at least one pixel) around the image, (n, ...)."""
    height, width = values.shape[:2]
    band = max(1, round(0.02 * min(height, width)))
    return np.concatenate([
        values[:band].reshape(-1, *values.shape[2:]), values[-band:].reshape(-1, *values.shape[2:]),
        values[:, :band].reshape(-1, *values.shape[2:]), values[:, -band:].reshape(-1, *values.shape[2:]),
    ])


def _decide_kind(colour: np.ndarray, had_transparency: bool) -> str:
    """"mnist" for tiny images, "canvas" for drawings (a flat background), "photo" otherwise."""
    height, width = colour.shape[:2]
    if max(height, width) <= 40:
        return "mnist"
    if had_transparency:
        return "canvas"
    gray = _luminance(colour)
    background = float(np.median(_border(gray)))
    flat = float(np.mean(np.abs(gray - background) < 3.0 / 255.0))
    # a drawing's background is one exact colour; paper under a camera never is
    return "canvas" if flat > 0.5 else "photo"


def _blank_check(strength: float, signal_to_noise: float, what: str) -> None:
    """Refuse ink that is too faint in absolute terms or against the noise (in units of sigma)."""
    if strength < 0.08 or signal_to_noise < 6.0:
        raise NoDigitFound(f"No digit found: {what}. Draw or photograph one digit, dark on light or light on dark.")


def _mnist_ink(colour: np.ndarray, gray: np.ndarray, steps: list[Step]) -> np.ndarray:
    """An already MNIST-like digit: fix the polarity and resize to 28x28 without refitting."""
    background = float(np.median(_border(gray)))
    ink = np.abs(gray - background)
    _blank_check(float(ink.max()), np.inf, "the image is one uniform colour")
    ink = ink / float(ink.max())
    steps.append(Step("polarity", "White ink on black" + (" (inverted)" if background > 0.5 else ""),
                      _to_step_image(ink)))
    height, width = ink.shape
    if (height, width) != (MNIST_SIDE, MNIST_SIDE):
        ink = np.clip(_resize(ink, MNIST_SIDE, MNIST_SIDE, Image.Resampling.LANCZOS), 0.0, 1.0)
    steps.append(Step("centre", "28x28 model input", _to_step_image(ink)))
    return ink.astype(np.float32)


def _canvas_ink(colour: np.ndarray, gray: np.ndarray, steps: list[Step]) -> tuple[np.ndarray, np.ndarray]:
    """Ink as the colour distance from the flat background: any stroke and background colours work."""
    background = np.median(_border(colour), axis=0)  # (c,)
    ink = np.sqrt(np.mean((colour - background) ** 2, axis=-1))
    strength = float(ink.max())
    _blank_check(strength, np.inf, "the canvas is empty or one uniform colour")
    ink = ink / strength
    inverted = float(_luminance(background[None, None, :])[0, 0]) > float(gray[ink > 0.5].mean())
    steps.append(Step("polarity", "White ink on black" + (" (inverted)" if inverted else ""),
                      _to_step_image(ink)))
    mask = ink > 0.3
    mask = _drop_specks(mask, ink)
    if not mask.any():
        raise NoDigitFound("No digit found: only a few specks are on the canvas. Draw a digit.")
    ink = np.where(_max_filter(mask, 1), ink, 0.0)
    steps.append(Step("threshold", "Background removed", _to_step_image(ink)))
    return ink, mask


def _estimate_background(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness under uneven light, without the ink: a median of a dilated, small copy.

    Dilation (a max filter) removes dark strokes; the median follows shadow edges better than a blur.
    """
    height, width = gray.shape
    factor = max(1, round(max(height, width) / 80))  # about 80 cells on the long side
    small_w, small_h = max(3, width // factor), max(3, height // factor)
    small = _resize(gray, small_w, small_h, Image.Resampling.BOX)
    small = _max_filter(small, 1)
    small = np.asarray(Image.fromarray(small, mode="F").filter(ImageFilter.MedianFilter(5)))
    return _resize(small, width, height, Image.Resampling.BILINEAR)


def _photo_ink(gray: np.ndarray, steps: list[Step]) -> tuple[np.ndarray, np.ndarray]:
    """Even out lighting and shadows, pick the polarity, threshold with hysteresis above the paper's noise.

    A first pass against a smooth background estimate finds the polarity and the stroke width.
    The second pass uses a morphological closing (an opening for light ink) as the background: it
    fills dark strokes up to a few widths wide but keeps shadow edges, so they leave no false ink.
    """
    ink, noise, inverted = _relative_ink(gray, _estimate_background(gray), None)
    strength = _strength(ink)
    _blank_check(strength, _strength(ink / noise), "the photo shows no marks that stand out from the paper")
    first_mask = _hysteresis(ink, noise, strength)
    width = _stroke_width(first_mask) if first_mask.any() else 3.0
    background = _morphological_background(gray, radius=max(3, round(1.5 * width)), dark_ink=inverted)
    ink, noise, _ = _relative_ink(gray, background, inverted)
    steps.append(Step("polarity", "Lighting evened out, white ink on black" + (" (inverted)" if inverted else ""),
                      _to_step_image(ink, normalise=True)))
    strength = _strength(ink)
    _blank_check(strength, _strength(ink / noise), "the photo shows no marks that stand out from the paper")
    mask = _hysteresis(ink, noise, strength, drop_border=True)
    mask = _drop_specks(mask, ink)
    if mask.sum() < MIN_INK_PIXELS:
        raise NoDigitFound("No digit found: the photo shows only specks. Photograph one digit, filling more of the frame.")
    ink = np.where(_max_filter(mask, 1), np.clip(ink / strength, 0.0, 1.0), 0.0)
    steps.append(Step("threshold", "Background removed, specks dropped", _to_step_image(ink)))
    return ink, mask


def _relative_ink(gray: np.ndarray, background: np.ndarray, inverted: bool | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ink map (white on black), local noise level map and polarity (None: decide) against a background."""
    relative = (gray - background) / np.maximum(background, 0.05)  # shading multiplies paper and ink alike
    relative = _box_blur(relative, 1)  # soften grain and JPEG ringing
    deviation = relative - float(np.median(relative))
    noise = _noise_map(deviation)
    dark, light = np.clip(-deviation, 0, None), np.clip(deviation, 0, None)
    if inverted is None:
        inverted = float((dark / noise).max()) >= float((light / noise).max())
    return (dark if inverted else light), noise, inverted


def _noise_map(deviation: np.ndarray, cell: int = 16) -> np.ndarray:
    """Robust local noise (sigma) per pixel: the median absolute deviation in 16x16 cells.

    Noise is not uniform: relative to the paper's brightness it is larger in shadows. The median
    ignores ink as long as it covers less than half of a cell.
    """
    height, width = deviation.shape
    rows, cols = max(1, height // cell), max(1, width // cell)
    cropped = deviation[:rows * cell, :cols * cell] if height >= cell and width >= cell else deviation
    cell_h, cell_w = cropped.shape[0] // rows, cropped.shape[1] // cols
    blocks = cropped[:rows * cell_h, :cols * cell_w].reshape(rows, cell_h, cols, cell_w).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(rows, cols, -1)
    # deviation from each cell's own median: a cell inside a thick stroke is as quiet as paper
    centred = np.abs(blocks - np.median(blocks, axis=-1, keepdims=True))
    sigma = 1.4826 * np.median(centred, axis=-1).astype(np.float32)
    if rows >= 3 and cols >= 3:
        sigma = np.asarray(Image.fromarray(sigma, mode="F").filter(ImageFilter.MedianFilter(3)))
    typical = float(np.median(sigma))
    # clean digital images have almost no noise; shadows raise it, but not by more than a few times
    sigma = np.clip(sigma, max(typical * 0.5, 1e-3), max(typical * 3.0, 1e-3))
    return _resize(sigma, width, height, Image.Resampling.BILINEAR)


def _strength(ink: np.ndarray) -> float:
    """How strong the ink is: a high percentile, but at least half the maximum for tiny digits."""
    return max(float(np.percentile(ink, 99.95)), float(ink.max()) * 0.5)


def _hysteresis(ink: np.ndarray, noise: np.ndarray, strength: float, *, drop_border: bool = False) -> np.ndarray:
    """Pixels above a low threshold that are connected to pixels above a high one (both above the noise)."""
    high = np.maximum(6.0 * noise, 0.45 * strength)
    low = np.maximum(3.0 * noise, 0.2 * strength)
    labels, sizes = label_components(ink > low)
    strong_labels = np.unique(labels[ink > high])
    keep = np.zeros(len(sizes), dtype=bool)
    keep[strong_labels[strong_labels > 0]] = True
    if drop_border:
        # What runs off the picture (the paper's edge, a table) is not the digit, which has paper
        # around it; drop it unless nothing else is left.
        touching = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        inside = keep.copy()
        inside[touching] = False
        if inside.any():
            keep = inside
    return keep[labels]


def _morphological_background(gray: np.ndarray, radius: int, dark_ink: bool) -> np.ndarray:
    """Closing (dark ink) or opening (light ink) of `gray` with a square of this radius, on a small copy."""
    height, width = gray.shape
    factor = max(1, int(np.ceil(radius / 4)))  # keep the filters at most 9 taps wide
    small = gray if factor == 1 else _resize(gray, max(3, width // factor), max(3, height // factor))
    small_radius = int(np.ceil(radius / factor)) + (1 if factor > 1 else 0)
    if dark_ink:
        closed = -_max_filter(-_max_filter(small, small_radius), small_radius)
    else:
        closed = _max_filter(-_max_filter(-small, small_radius), small_radius)
    if factor == 1:
        return closed
    return _resize(closed, width, height, Image.Resampling.BILINEAR)


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
    for label in np.nonzero(mass >= 0.08 * mass[largest])[0]:
        if label == 0 or label == largest:
            continue
        r, c = np.nonzero(labels == label)
        if (r.max() >= top - margin and r.min() <= bottom + margin
                and c.max() >= left - margin and c.min() <= right + margin):
            keep[label] = True
    return keep[labels]


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the area over the perimeter."""
    area = float(mask.sum())
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    perimeter = max(1.0, area - float(inner.sum()))
    return 2.0 * area / perimeter


def _fit_and_centre(ink: np.ndarray, mask: np.ndarray, steps: list[Step]) -> np.ndarray:
    """Crop to the ink box, thicken hair-thin strokes, fit into 20x20, centre by mass in 28x28."""
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    box_view = ink.copy()  # the ink with its box drawn in mid-gray
    box_view[top:bottom, [left, right - 1]] = np.maximum(box_view[top:bottom, [left, right - 1]], 0.5)
    box_view[[top, bottom - 1], left:right] = np.maximum(box_view[[top, bottom - 1], left:right], 0.5)
    steps.append(Step("ink_box", "Ink bounding box", _to_step_image(box_view)))
    pad = 2
    crop = ink[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
    crop_mask = mask[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
    extent = max(bottom - top, right - left)
    width = _stroke_width(crop_mask)
    if extent < DOT_RATIO * width or mask.sum() < MIN_INK_PIXELS:
        raise NoDigitFound("No digit found: there is only a dot or a blob. Draw or write a whole digit.")
    if width < MIN_STROKE_RATIO * extent:
        # thin pen or brush: grow the strokes towards MNIST's proportions before shrinking
        radius = max(1, round((TARGET_STROKE_RATIO * extent - width) / 2))
        crop = _max_filter(np.pad(crop, radius), radius)
    crop = _trim(crop)
    height, width_px = crop.shape
    scale = MNIST_BOX / max(height, width_px)
    size = (max(1, round(width_px * scale)), max(1, round(height * scale)))
    fitted = np.clip(_resize(crop, *size, Image.Resampling.LANCZOS if scale > 0.5 else Image.Resampling.BOX), 0, None)
    peak = float(fitted.max())
    if peak <= 0:
        raise NoDigitFound("No digit found: the ink is too faint. Draw or write the digit darker.")
    fitted = np.clip(fitted / peak, 0.0, 1.0)
    boxed = np.zeros((MNIST_BOX, MNIST_BOX), dtype=np.float32)
    boxed[(MNIST_BOX - size[1]) // 2:(MNIST_BOX - size[1]) // 2 + size[1],
          (MNIST_BOX - size[0]) // 2:(MNIST_BOX - size[0]) // 2 + size[0]] = fitted
    steps.append(Step("fit", "Fitted into 20x20", _to_step_image(boxed)))
    digit = _place_by_mass(fitted)
    steps.append(Step("centre", "Centred by mass in 28x28", _to_step_image(digit)))
    return digit


def _trim(image: np.ndarray) -> np.ndarray:
    rows = np.nonzero(image.max(axis=1) > 0.05)[0]
    cols = np.nonzero(image.max(axis=0) > 0.05)[0]
    if len(rows) == 0:
        return image
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _place_by_mass(fitted: np.ndarray) -> np.ndarray:
    """Paste the fitted digit into 28x28 so its centre of mass lands where MNIST's does."""
    height, width = fitted.shape
    total = float(fitted.sum())
    row_mass = float((fitted.sum(axis=1) * np.arange(height)).sum()) / total
    col_mass = float((fitted.sum(axis=0) * np.arange(width)).sum()) / total
    top = int(np.clip(round(MNIST_CENTRE - row_mass), 0, MNIST_SIDE - height))
    left = int(np.clip(round(MNIST_CENTRE - col_mass), 0, MNIST_SIDE - width))
    digit = np.zeros((MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    digit[top:top + height, left:left + width] = fitted
    return digit
