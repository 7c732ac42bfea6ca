"""Tests for digitcore.reading.preprocess: safe decoding of untrusted files and MNIST-style preprocessing."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitcore.reading import preprocess
from digitcore.reading.preprocess import (
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    ImageTooThin,
    NoDigitFound,
    NotAnImage,
    TruncatedImage,
    UnsupportedFormat,
)

SEVEN = 0  # index of a clear 7 in the MNIST test set


# ---------------------------------------------------------------------------------------------
# Image builders


def big_digit(digit28: np.ndarray, height: int = 180, side: int = 280, at: tuple[int, int] | None = None) -> np.ndarray:
    """(side, side) float ink in [0, 1]: the MNIST digit enlarged to about `height` px, placed at `at` (top-left)."""
    size = round(28 * height / 20)  # MNIST digits are about 20 of their 28 pixels tall
    enlarged = np.asarray(Image.fromarray(digit28).resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)
    enlarged = np.clip((enlarged - 60) / 120, 0, 1)  # crisp strokes, as drawn with a brush
    canvas = np.zeros((side + 2 * size, side + 2 * size), dtype=np.float32)
    top, left = at if at is not None else ((side - size) // 2, (side - size) // 2)
    canvas[size + top : size + top + size, size + left : size + left + size] = enlarged
    return canvas[size : size + side, size : size + side]


def as_rgba(ink: np.ndarray, stroke=(255, 255, 255), background=None) -> np.ndarray:
    """(h, w, 4) uint8 as the drawing component returns it: strokes on a transparent or opaque background."""
    rgba = np.zeros((*ink.shape, 4), dtype=np.float32)
    if background is None:
        rgba[..., :3] = stroke
        rgba[..., 3] = ink * 255
    else:
        rgba[..., :3] = ink[..., None] * np.array(stroke) + (1 - ink[..., None]) * np.array(background)
        rgba[..., 3] = 255
    return np.round(rgba).astype(np.uint8)


def paper_photo(ink: np.ndarray, seed: int = 0, shadow: bool = True) -> np.ndarray:
    """(h, w, 3) uint8: dark ink on paper lit from one side, with grain and an optional shadow."""
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.55 + 0.4 * xs / width  # brighter to the right
    if shadow:  # the soft edge of a hand's or phone's shadow across the lower part
        edge = ys - (0.6 * height + 0.2 * (xs - width / 2))
        light = light * (1 - 0.4 / (1 + np.exp(-edge / 8.0)))
    surface = 0.9 * (1 - ink) + 0.12 * ink
    gray = surface * light * 255 + rng.normal(0, 4, size=ink.shape)
    return np.clip(np.stack([gray, gray * 0.98, gray * 0.93], axis=-1), 0, 255).astype(np.uint8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side x side pixels in a few hundred KB: a decompression bomb."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def exif_rotated_jpeg(gray: np.ndarray) -> bytes:
    """A phone-style JPEG: pixels stored sideways with EXIF orientation 6 (rotate 90 degrees to view)."""
    stored = Image.fromarray(gray).transpose(Image.Transpose.ROTATE_90)  # the camera sensor's orientation
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def animated_gif(first: np.ndarray, second: np.ndarray) -> bytes:
    frames = [Image.fromarray(first), Image.fromarray(second)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@pytest.fixture(scope="module")
def seven(mnist) -> np.ndarray:
    return mnist.x_test[SEVEN]


@pytest.fixture(scope="module")
def drawn_seven(seven) -> np.ndarray:
    """Black on white 8-bit grayscale, 280x280."""
    return np.round(255 * (1 - big_digit(seven))).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Bad and awkward inputs: each case of the issue is one row


def _strip_with_a_one(size: tuple[int, int]) -> Image.Image:
    """White paper of `size` with a short dark bar (a 1) in its middle."""
    strip = Image.new("L", size, 255)
    width, height = size
    ImageDraw.Draw(strip).line([(width // 2, height // 2 - 20), (width // 2, height // 2 + 20)], fill=0, width=6)
    return strip


def _bytes_case(name, drawn_seven):
    """The file bytes for each case, built from the drawn 7 (280x280, black on white)."""
    digit = Image.fromarray(drawn_seven)
    png, jpeg = encode(digit, "PNG"), encode(digit.convert("RGB"), "JPEG", quality=90)
    sixteen = Image.fromarray(drawn_seven.astype(np.uint16) * 257)
    white_photo = paper_photo(np.zeros((480, 640), dtype=np.float32), shadow=False)
    transparent = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    return {
        "empty file": b"",
        "text file named .png": b"This is not a picture, just words in a file called digit.png\n" * 20,
        "truncated PNG": png[: len(png) // 2],
        "truncated JPEG": jpeg[: len(jpeg) // 2],
        "30000x30000 PNG of a few KB": png_bomb(),
        "1x1 image": encode(Image.new("L", (1, 1), 0), "PNG"),
        "30000x50 PNG strip": encode(_strip_with_a_one((30000, 50)), "PNG"),
        "60x9000 PNG strip": encode(_strip_with_a_one((60, 9000)), "PNG"),
        "fully transparent PNG": encode(transparent, "PNG"),
        "all-white photo": encode(Image.fromarray(white_photo), "JPEG", quality=85),
        "all-black canvas": encode(Image.new("RGBA", (280, 280), (0, 0, 0, 255)), "PNG"),
        "over the byte cap": b"\x89PNG\r\n\x1a\n" + b"\x00" * preprocess.MAX_UPLOAD_BYTES,
        "TIFF (not accepted)": encode(digit, "TIFF"),
        "iPhone HEIC (not accepted)": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200,
        "CMYK JPEG": encode(digit.convert("CMYK"), "JPEG", quality=90),
        "16-bit PNG": encode(sixteen, "PNG"),
        "animated GIF": animated_gif(drawn_seven, 255 - drawn_seven),
        "EXIF-rotated phone JPEG": exif_rotated_jpeg(drawn_seven),
        "palette PNG with transparency": _palette_png_with_transparent_paper(drawn_seven),
    }


def _palette_png_with_transparent_paper(gray: np.ndarray) -> bytes:
    """An 8-colour palette PNG whose lightest colour (the paper) is transparent."""
    palette_image = Image.fromarray(gray).convert("RGB").quantize(colors=8)
    colours = np.array(palette_image.getpalette()[:24]).reshape(8, 3)
    lightest = int(colours.sum(axis=1).argmax())
    return encode(palette_image, "PNG", transparency=lightest)


# The sentence a person reads for each refused input: what is wrong and what to do.
EXPECTED_SENTENCES = {
    "empty file": "The file is empty. Choose an image file (PNG, JPEG, GIF, BMP or WebP).",
    "text file named .png": "This file is not an image (is it a renamed document?). "
    "Choose a PNG, JPEG, GIF, BMP or WebP image.",
    "30000x30000 PNG of a few KB": "The image has too many pixels; the limit is 40 million. "
    "Crop it around the digit or scale it down and retry.",
    "1x1 image": "The image is only 1x1 pixels; a digit needs at least 8x8. Use a larger picture of the digit.",
    "30000x50 PNG strip": "The image is 30000x50 pixels, 600 times as wide as it is tall: a strip that thin "
    "cannot be read (at most 100 times is). Crop it around the digits and retry.",
    "60x9000 PNG strip": "The image is 60x9000 pixels, 150 times as tall as it is wide: a strip that thin "
    "cannot be read (at most 100 times is). Crop it around the digits and retry.",
    "fully transparent PNG": "The image is fully transparent: there is nothing to read. Draw or photograph a digit.",
    "all-white photo": "No digit found: the photo shows no marks that stand out from the paper. "
    "Draw or photograph one digit, dark on light or light on dark.",
    "all-black canvas": "No digit found: the picture is blank or one uniform colour. "
    "Draw or photograph one digit, dark on light or light on dark.",
    "over the byte cap": "The file is 10.0 MB; the limit is 10 MB. "
    "Crop the photo around the digit or save it at a lower resolution.",
    "TIFF (not accepted)": "TIFF images are not accepted. Save or export the picture as PNG or JPEG and retry.",
    "iPhone HEIC (not accepted)": "HEIC images are not accepted. Save or export the picture as PNG or JPEG and retry.",
}


@pytest.mark.parametrize(
    "case, error",
    [
        ("empty file", NotAnImage),  # zero bytes
        ("text file named .png", NotAnImage),  # the extension lies
        ("truncated PNG", TruncatedImage),  # header fine, data cut in half
        ("truncated JPEG", TruncatedImage),
        ("30000x30000 PNG of a few KB", ImageTooLarge),  # refused from the header, nothing decoded
        ("1x1 image", ImageTooSmall),
        ("30000x50 PNG strip", ImageTooThin),  # named by its real size, not by what shrinking left of it
        ("60x9000 PNG strip", ImageTooThin),
        ("fully transparent PNG", NoDigitFound),  # nothing drawn
        ("all-white photo", NoDigitFound),  # a sheet of paper with grain and JPEG noise
        ("all-black canvas", NoDigitFound),
        ("over the byte cap", FileTooLarge),
        ("TIFF (not accepted)", UnsupportedFormat),  # a real image, refused by name
        ("iPhone HEIC (not accepted)", UnsupportedFormat),
        ("CMYK JPEG", None),  # these must work
        ("16-bit PNG", None),
        ("animated GIF", None),  # first frame
        ("EXIF-rotated phone JPEG", None),
        ("palette PNG with transparency", None),
    ],
)
def test_bad_and_awkward_inputs(case, error, drawn_seven):
    data = _bytes_case(case, drawn_seven)[case]
    if error is not None:
        with pytest.raises(error) as raised:
            preprocess.to_mnist(preprocess.decode(data))
        assert isinstance(raised.value, preprocess.ImageError)
        assert str(raised.value) == EXPECTED_SENTENCES.get(case) or (
            # Pillow's own words for the damage sit in the brackets and vary by version
            case.startswith("truncated")
            and str(raised.value).startswith("The image data is incomplete or damaged (")
            and str(raised.value).endswith("). Upload the complete file again.")
        ), str(raised.value)
        return
    image = preprocess.decode(data)
    assert image.mode in ("L", "RGB")
    assert image.size == (280, 280)
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    # the decoded picture is the drawn 7 the right way up: dark ink on light, pixel for pixel
    correlation = np.corrcoef(gray.ravel(), drawn_seven.astype(np.float32).ravel())[0, 1]
    assert correlation > 0.95, f"{case}: decoded image does not match the original (r={correlation:.3f})"
    prepared = preprocess.to_mnist(image)
    expected = preprocess.to_mnist(drawn_seven).image
    assert np.abs(prepared.image - expected).mean() < 0.05


def test_the_pixel_cap_is_checked_before_decoding():
    # A PNG just above the cap with no image data at all: refused from its header alone.
    data = png_bomb(side=int(preprocess.MAX_PIXELS**0.5) + 8)
    with pytest.raises(ImageTooLarge, match="million"):
        preprocess.decode(data[:200])


@pytest.mark.parametrize(
    "mode, make",
    [
        ("I;16", lambda g: Image.fromarray(g.astype(np.uint16) * 257)),  # 16-bit gray
        ("I", lambda g: Image.fromarray(g.astype(np.int32) * 257)),  # 32-bit integer, 16-bit range
        ("F", lambda g: Image.fromarray(g.astype(np.float32) / 255.0)),  # float in [0, 1]
        ("LA", lambda g: Image.fromarray(np.stack([g, np.full_like(g, 255)], -1)).convert("LA")),
        ("CMYK", lambda g: Image.fromarray(g).convert("CMYK")),
        ("1", lambda g: Image.fromarray(g > 127)),
    ],
)
def test_every_mode_is_scaled_not_clipped(mode, make):
    gray = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (16, 1))  # a horizontal ramp
    image = make(gray)
    assert image.mode == mode
    colour, alpha = preprocess.image_to_array(image)
    values = colour.mean(axis=-1)
    expected = gray / 255.0 if mode != "1" else (gray > 127).astype(np.float32)
    assert np.abs(values - expected).max() < 0.02
    assert alpha is None or alpha.min() == 1.0


@pytest.mark.parametrize(
    "stroke, background",
    [
        ((255, 255, 255), None),  # white strokes on a transparent canvas
        ((0, 0, 0), None),  # black strokes on a transparent canvas
        ((255, 255, 255), (0, 0, 0)),  # white on black, opaque
        ((0, 0, 0), (255, 255, 255)),  # black on white, opaque
        ((200, 30, 30), (240, 240, 200)),  # red on cream
        ((250, 250, 120), (20, 40, 90)),  # yellow on dark blue
    ],
)
def test_canvas_polarity_and_colours_give_the_same_digit(seven, stroke, background):
    reference = preprocess.to_mnist(big_digit(seven)).image
    prepared = preprocess.to_mnist(as_rgba(big_digit(seven), stroke=stroke, background=background))
    assert prepared.kind == "canvas"
    assert np.abs(prepared.image - reference).mean() < 0.02


@pytest.mark.parametrize(
    "name, make",
    [
        ("canvas RGBA", lambda ink: as_rgba(ink)),
        ("grayscale array, black on white", lambda ink: np.round(255 * (1 - ink)).astype(np.uint8)),
        ("float array, white on black", lambda ink: ink),
        ("photo", lambda ink: paper_photo(ink)),
    ],
)
def test_output_is_mnist_shaped_with_every_step(seven, name, make):
    prepared = preprocess.to_mnist(make(big_digit(seven, height=120, at=(40, 90))))
    digit = prepared.image
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(digit > 0.05)
    # fitted into 20x20, keeping the aspect ratio: the longest side is 20 pixels
    assert max(np.ptp(rows), np.ptp(cols)) + 1 == 20
    ys, xs = np.mgrid[0:28, 0:28]
    centre = ((digit * ys).sum() / digit.sum(), (digit * xs).sum() / digit.sum())
    assert abs(centre[0] - preprocess.MNIST_CENTRE) < 1.0 and abs(centre[1] - preprocess.MNIST_CENTRE) < 1.0
    assert [step.name for step in prepared.steps] == ["grayscale", "polarity", "threshold", "ink_box", "fit", "centre"]
    for step in prepared.steps:
        assert step.image.dtype == np.uint8 and step.image.ndim == 2
        assert max(step.image.shape) <= preprocess.STEP_SIDE and step.title


@pytest.mark.parametrize(
    "image, kind",
    [
        (np.zeros((28, 28), dtype=np.uint8) + np.eye(28, dtype=np.uint8) * 255, "mnist"),  # MNIST-sized
        (as_rgba(np.eye(280, dtype=np.float32)), "canvas"),  # transparency means a drawing
        (np.round(255 * (1 - np.eye(280))).astype(np.uint8), "canvas"),  # one flat background colour
        (paper_photo(np.eye(480, 640, dtype=np.float32)), "photo"),  # paper under a lamp is never flat
    ],
)
def test_auto_decides_the_kind(image, kind):
    assert preprocess.to_mnist(image).kind == kind


def test_an_mnist_digit_passes_through_unchanged(mnist):
    for index in range(20):
        digit = mnist.x_test[index]
        prepared = preprocess.to_mnist(digit, kind="mnist")
        assert np.abs(prepared.image - digit / 255.0).max() <= 1 / 255  # only stretched to a peak of 1
        assert preprocess.to_mnist(255 - digit).kind == "mnist"  # black on white is inverted back
        assert np.abs(preprocess.to_mnist(255 - digit).image - digit / 255.0).max() < 0.02


def test_photo_with_uneven_light_and_shadow_matches_the_clean_digit(seven):
    ink = big_digit(seven, height=90, side=480)[:, :]
    ink = np.pad(ink, ((0, 0), (80, 80)))  # (480, 640), digit off-centre
    ink = np.roll(ink, (60, 150), axis=(0, 1))
    clean = preprocess.to_mnist(ink).image
    prepared = preprocess.to_mnist(paper_photo(ink, shadow=True))
    assert prepared.kind == "photo"
    assert np.corrcoef(clean.ravel(), prepared.image.ravel())[0, 1] > 0.85


@pytest.mark.parametrize(
    "where",
    [
        (5, 5),  # a speck in a corner
        (250, 260),  # a speck in the other corner
    ],
)
def test_specks_far_from_the_digit_are_dropped(seven, where):
    ink = big_digit(seven, height=150)
    specked = ink.copy()
    specked[where[0] : where[0] + 4, where[1] : where[1] + 4] = 1.0
    assert np.abs(preprocess.to_mnist(specked).image - preprocess.to_mnist(ink).image).max() < 1e-6
    photo = preprocess.to_mnist(paper_photo(specked, shadow=False)).image
    assert np.corrcoef(photo.ravel(), preprocess.to_mnist(paper_photo(ink, shadow=False)).image.ravel())[0, 1] > 0.95


@pytest.mark.parametrize(
    "image, kind",
    [
        (np.zeros((280, 280, 4), dtype=np.uint8), "auto"),  # empty canvas from the component
        (np.full((280, 280, 4), (0, 0, 0, 255), dtype=np.uint8), "canvas"),  # all-black canvas
        (np.full((280, 280), 255, dtype=np.uint8), "auto"),  # white sheet
        (paper_photo(np.zeros((480, 640), dtype=np.float32)), "photo"),  # a photo of blank paper
        (paper_photo(np.zeros((480, 640), dtype=np.float32)), "auto"),
        (np.full((28, 28), 0.3, dtype=np.float32), "mnist"),  # uniform gray
        (np.pad(np.ones((1, 1)), 139).astype(np.float32) * 0.04, "canvas"),  # one faint dot
        (as_rgba(np.pad(np.ones((20, 20), np.float32), 130)), "auto"),  # one click of a thick brush
        (paper_photo(np.pad(np.ones((6, 6), np.float32), ((200, 274), (300, 334)))), "auto"),  # a pen dot on paper
    ],
)
def test_blank_input_raises_no_digit_found(image, kind):
    with pytest.raises(NoDigitFound):
        preprocess.to_mnist(image, kind=kind)


@pytest.mark.parametrize(
    "image, error",
    [
        (np.zeros((4, 4), dtype=np.uint8), ImageTooSmall),  # smaller than a digit can be
        (np.zeros((10, 10, 2), dtype=np.uint8), ValueError),  # two channels: not an image layout
        (np.zeros((2, 10, 10, 3), dtype=np.uint8), ValueError),  # a batch, not one image
    ],
)
def test_wrong_arrays_are_refused(image, error):
    with pytest.raises(error):
        preprocess.to_mnist(image)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        preprocess.to_mnist(np.zeros((28, 28)), kind="scan")


@pytest.mark.parametrize(
    "mask, count",
    [
        (np.zeros((5, 5), dtype=bool), 0),  # nothing
        (np.ones((5, 5), dtype=bool), 1),  # one block
        (np.eye(6, dtype=bool), 1),  # a diagonal is one 8-connected stroke
        (np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1]], dtype=bool), 4),  # four separate dots
        (np.array([[1, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=bool), 1),  # a U joined on the right
        (np.array([[1, 0, 1], [1, 0, 1], [1, 1, 1]], dtype=bool), 1),  # a U joined at the bottom
        (np.array([[1, 0, 0, 1], [0, 1, 1, 0]], dtype=bool), 1),  # a V of diagonals
    ],
)
def test_label_components(mask, count):
    labels, sizes = preprocess.label_components(mask)
    assert labels.max() == count and len(sizes) == count + 1
    assert sizes[1:].sum() == mask.sum() and (labels > 0).sum() == mask.sum()
    assert ((labels > 0) == mask).all()


def test_preprocess_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, digitcore.reading.preprocess; print('tensorflow' in sys.modules, 'streamlit' in sys.modules)"
    project = Path(preprocess.__file__).resolve().parents[2]
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project
    ).stdout
    assert output.split() == ["False", "False"]


def test_a_big_phone_photo_is_decoded_small_and_read(seven):
    ink = np.pad(big_digit(seven, height=900, side=2400), ((0, 0), (400, 400)))  # (2400, 3200)
    data = encode(Image.fromarray(paper_photo(ink, shadow=False)), "JPEG", quality=85)
    image = preprocess.decode(data)
    assert max(image.size) <= 2 * preprocess.WORK_SIDE  # decoded at a reduced JPEG scale
    clean = preprocess.to_mnist(big_digit(seven)).image
    assert np.corrcoef(clean.ravel(), preprocess.to_mnist(image).image.ravel())[0, 1] > 0.85


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_damaged_files_give_image_errors_only(drawn_seven, fmt):
    """Random byte damage to a valid file: decode and to_mnist either work or raise ImageError, nothing else."""
    original = encode(Image.fromarray(drawn_seven).resize((64, 64)), fmt)
    rng = np.random.default_rng(0)
    for _ in range(150):
        damaged = bytearray(original)
        for position in rng.integers(0, len(damaged), size=int(rng.integers(1, 8))):
            damaged[position] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            damaged = damaged[: int(rng.integers(1, len(damaged)))]
        try:
            preprocess.to_mnist(preprocess.decode(bytes(damaged)))
        except preprocess.ImageError:
            pass


@pytest.mark.parametrize(
    "stroke",
    [
        (255, 255, 255),  # white strokes on transparency would vanish on white: composited on black
        (0, 0, 0),  # black strokes on transparency: composited on white
        (40, 60, 200),  # blue strokes
    ],
)
def test_transparent_png_drawings_keep_their_ink(seven, stroke):
    ink = big_digit(seven)
    data = encode(Image.fromarray(as_rgba(ink, stroke=stroke)), "PNG")
    decoded = preprocess.decode(data)
    assert np.abs(preprocess.to_mnist(decoded).image - preprocess.to_mnist(ink).image).mean() < 0.02


@pytest.mark.parametrize("colour", [(255, 255, 255), (128, 128, 128)])
def test_a_blank_upload_is_a_blank_picture_not_an_empty_canvas(colour):
    # An upload with a flat background is read like a drawing; its owner photographed or saved a
    # picture, so "the canvas is empty" would send them to a canvas they never touched.
    blank = encode(Image.new("RGB", (400, 300), colour), "JPEG", quality=90)
    with pytest.raises(NoDigitFound) as raised:
        preprocess.to_mnist(preprocess.decode(blank))
    assert str(raised.value).startswith("No digit found: the picture is blank or one uniform colour.")
    with pytest.raises(NoDigitFound, match="the canvas is empty"):
        preprocess.to_mnist(preprocess.decode(blank), kind="canvas")
