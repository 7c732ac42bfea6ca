"""Decoding untrusted image bytes: size, format and pixel-count checks, then a loaded "L" or "RGB" image.

Everything here treats the bytes as hostile (a renamed PDF, a decompression bomb, a truncated JPEG)
and turns each failure into an ImageError whose message tells a person what to do instead.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from digitcore import limits
from digitcore.reading.imageops import luminance

MAX_UPLOAD_BYTES = limits.MAX_UPLOAD_BYTES  # a phone photo is 2-6 MB
MAX_PIXELS = 40_000_000  # about 7300x5500; checked from the header, before any decoding
MIN_SIDE = 8  # pixels: smaller images cannot hold a readable digit
ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
WORK_SIDE = 800  # larger inputs are shrunk to this longest side first: a digit needs far fewer pixels
# Shrunk to WORK_SIDE, a longer strip than this would be thinner than MIN_SIDE: refused by its real size
# here, before any shrinking (a 30000x50 strip was once refused as "only 834x2 pixels", a size it never had).
MAX_ASPECT_RATIO = WORK_SIDE // MIN_SIDE


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


class ImageTooThin(ImageError):
    """A strip so long for its width that, shrunk to be read, it could not hold a digit."""


class NoDigitFound(ImageError):
    """A blank or nearly blank image: an empty canvas, a white sheet, a uniform photo."""


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
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageTooThin(_too_thin_message(width, height))
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
        ImageOps.exif_transpose(image, in_place=True)  # (not in place, it copies every upright picture)
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
    flat = flatten_alpha(
        colour,
        alpha,
        empty_message=("The image is fully transparent: there is nothing to read. Draw or photograph a digit."),
    )
    pixels = np.round(flat * 255).astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


_OTHER_FORMATS = (
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"8BPS", "Photoshop"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"%PDF", "PDF"),
    (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (0, b"<svg", "SVG"),
)


def _sniff_other_format(data: bytes) -> str | None:
    """The name of a known image format outside ACCEPTED_FORMATS, from its first bytes, or None."""
    for offset, magic, name in _OTHER_FORMATS:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


def _too_large_message(size: tuple[int, int] | None) -> str:
    described = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
    return (
        f"The image has {described}; the limit is {MAX_PIXELS / 1e6:.0f} million. "
        "Crop it around the digit or scale it down and retry."
    )


def _too_thin_message(width: int, height: int) -> str:
    long_side, short_side = ("wide", "tall") if width > height else ("tall", "wide")
    return (
        f"The image is {width}x{height} pixels, {max(width, height) / min(width, height):.0f} times as {long_side} "
        f"as it is {short_side}: a strip that thin cannot be read (at most {MAX_ASPECT_RATIO} times is). "
        "Crop it around the digits and retry."
    )


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
    pixels = np.divide(np.asarray(image), np.float32(255.0), dtype=np.float32)  # as float32(x) / 255, in one pass
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


def flatten_alpha(colour: np.ndarray, alpha: np.ndarray | None, *, empty_message: str) -> np.ndarray:
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
    ink_brightness = float(luminance(colour)[opaque].mean())
    background = 0.0 if ink_brightness > 0.5 else 1.0
    weight = alpha[..., None]
    return colour * weight + background * (1.0 - weight)
