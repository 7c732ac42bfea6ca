"""What the app's tests share: canvas drawings and photos made by the tests themselves, small real
models, and the app opened in AppTest."""

import base64
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PAD_KEY = "drawing_pad"  # the Try it drawing pad's widget key
NUMBER_PAD_KEY = "number_pad"  # ... and the wider pad's of "A number"
NUMBER_ACROSS = 560  # the number pad's width (it is 280 tall)


def drawing_png(
    strokes: list[list[tuple[int, int]]], side: int = 280, width: int = 20, across: int | None = None
) -> bytes:
    """The PNG the drawing pad sends after the user drew `strokes`: white on black, round ends.
    The pad is `side` pixels tall and `across` wide (as tall when None)."""
    image = Image.new("RGBA", (across or side, side), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_value(strokes: list[list[tuple[int, int]]], width: int = 20, across: int | None = None) -> dict:
    """The drawing pad's state after the user drew `strokes` (set it as session_state[PAD_KEY], or
    [NUMBER_PAD_KEY] with across=NUMBER_ACROSS for the number pad)."""
    png = "data:image/png;base64," + base64.b64encode(drawing_png(strokes, width=width, across=across)).decode("ascii")
    return {
        "drawing": {
            "sequence": len(strokes),
            "png": png if strokes else None,
            "strokes": [[width] + [value for point in points for value in point] for points in strokes],
        }
    }


def pad_data(app, index: int = 0) -> dict:
    """What the page handed the drawing pad to mount with (size, pen width, drawing to restore)."""
    import json

    return json.loads(app.get("bidi_component")[index].proto.json)


def photo_of_digit(
    strokes: list[list[tuple[int, int]]], seed: int = 0, size: tuple[int, int] = (360, 480), ink_width: int = 18
) -> bytes:
    """A JPEG like a phone photo of a digit (or a number) on paper of `size` (width, height): dark ink,
    uneven light, noise, blur."""
    rng = np.random.default_rng(seed)
    width, height = size
    light = np.linspace(215, 185, width)[None, :] + np.linspace(0, -15, height)[:, None]
    paper = np.clip(light + rng.normal(0, 4, (height, width)), 0, 255).astype(np.uint8)
    image = Image.fromarray(paper).convert("RGB")
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=(40, 40, 60), width=ink_width, joint="curve")
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1.5)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


# Strokes on the 280x280 canvas, as a person would draw them.
def notebook_crop(draw_digit, seed: int) -> np.ndarray:
    """A notebook photographed from afar and cropped to one digit, 64x56 px: rulings 2 px thick (as
    thick as the pen) 22 px apart, a margin line, a little blur and a camera's grain; the digit is
    `draw_digit(ImageDraw.Draw(pen))`, white on a black "L" picture of the crop's size."""
    width, height = 64, 56
    page = Image.new("RGB", (width, height), (240, 238, 230))
    paper = ImageDraw.Draw(page)
    for y in (10, 32, 54):
        paper.line([(0, y), (width, y + 2)], fill=(150, 175, 225), width=2)
    paper.line([(9, 0), (9, height)], fill=(215, 120, 120), width=2)
    pen = Image.new("L", (width, height), 0)
    draw_digit(ImageDraw.Draw(pen))
    picture = np.asarray(page, dtype=np.float32)
    picture[np.asarray(pen) > 127] = (25, 30, 40)
    picture = np.asarray(Image.fromarray(picture.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6)), np.float32)
    picture += np.random.default_rng(seed).normal(0, 8, picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


def seven_with_its_bar_on_a_ruling(draw: ImageDraw.ImageDraw) -> None:
    """For notebook_crop: a 7 whose bar lies along the top ruling."""
    draw.line([(22, 10), (44, 10), (32, 44)], fill=255, width=2)


TWELVE = [
    [(70, 40), (70, 240)],
    [
        (round(120 + 0.7 * (x - 75)), y)
        for x, y in [(75, 95), (110, 50), (170, 45), (205, 90), (185, 150), (80, 240), (215, 240)]
    ],
]
ONE = [[(140, 40), (140, 240)]]
SEVEN = [[(70, 60), (210, 60), (120, 240)]]
# Digits people draw in several strokes; for 4 and 3 the first stroke alone reads as another digit.
FOUR = [[(95, 40), (75, 165), (215, 165)], [(175, 75), (175, 250)]]
BARRED_SEVEN = [[(70, 60), (210, 60), (125, 245)], [(110, 150), (205, 150)]]
FIVE_FLAG_LAST = [
    [(95, 60), (85, 135), (150, 120), (195, 160), (190, 215), (140, 245), (85, 230)],
    [(95, 60), (205, 60)],
]
ONE_WITH_BASE = [[(105, 80), (150, 40), (150, 240)], [(100, 242), (200, 242)]]
THREE_IN_TWO = [
    [(80, 60), (140, 35), (195, 70), (175, 125), (125, 140)],
    [(125, 140), (195, 170), (190, 225), (130, 250), (75, 225)],
]
MULTI_STROKE_DIGITS = {
    "4": (4, FOUR),
    "barred 7": (7, BARRED_SEVEN),
    "5, flag last": (5, FIVE_FLAG_LAST),
    "1 with a base": (1, ONE_WITH_BASE),
    "3 in two strokes": (3, THREE_IN_TWO),
}
PHOTO_SEVEN = [[(90, 110), (270, 110), (160, 380)]]
LETTER_A = [[(60, 250), (140, 30), (220, 250)], [(95, 160), (185, 160)]]  # not a digit
TWO = [[(75, 95), (110, 50), (170, 45), (205, 90), (185, 150), (80, 240), (215, 240)]]
ZERO = [
    [(140, 40), (80, 65), (55, 140), (80, 220), (140, 245), (200, 220), (225, 140), (200, 65), (140, 40)],
]
SIX = [[(185, 45), (125, 85), (85, 165), (95, 230), (145, 250), (195, 220), (190, 165), (140, 150), (90, 195)]]
DIGIT_STROKES = {0: ZERO, 2: TWO, 4: FOUR, 6: SIX, 7: SEVEN}


def number_strokes(number: str, slot: int = 135, left: int = 10) -> list[list[tuple[int, int]]]:
    """The strokes of `number` written across the 560x280 number pad, one digit per `slot` pixels,
    each digit's 280x280 strokes drawn 0.6 as wide and 0.85 as tall, as a hand writes a number."""
    strokes = []
    for place, character in enumerate(number):
        for points in DIGIT_STROKES[int(character)]:
            strokes.append([(left + place * slot + round(0.6 * x), 20 + round(0.85 * y)) for x, y in points])
    return strokes


def train_small_models(directory, mnist) -> None:
    """Two real models trained in seconds: a small CNN (about 96 %, the default) and a dense one."""
    from digitcore import training
    from digitcore.architectures import get_preset

    small_cnn = get_preset("keras_basic")
    training.train_and_save(
        small_cnn,
        recipe=small_cnn.recipe.with_overrides(epochs=2),
        limit=12000,
        name="small_cnn",
        make_default=True,
        models_directory=directory,
        mnist=mnist,
    )
    dense = get_preset("dense_baseline")
    training.train_and_save(
        dense,
        recipe=dense.recipe.with_overrides(epochs=1),
        limit=3000,
        name="small_dense",
        models_directory=directory,
        mnist=mnist,
    )


APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
APP_WORKSPACE = "apptest"  # tests/conftest.py's TEST_WORKSPACE: its app_workspace fixture is this one
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST


def open_app(page: str, query: dict[str, str] | None = None, workspace: str = APP_WORKSPACE):
    """An AppTest that has run the app in `workspace` and switched to app_pages/<page>.py (with `query`
    in its URL: a visitor opening or reloading a URL such as /try_it?model=small_dense)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    app.query_params["ws"] = workspace  # as a bookmarked link: the visitor's own workspace
    app.query_params.update(query or {})
    app.run()
    if page != "explore":  # the default page
        app.switch_page(f"app_pages/{page}.py")
        app.run()
    return app


def visible_texts(app) -> str:
    """Every message, caption and markdown line the page shows, as one string."""
    return " ".join(
        str(element.value)
        for kind in ("info", "warning", "error", "success", "caption", "markdown")
        for element in getattr(app, kind)
    )


def poll_page(app, condition, what: str, seconds: float) -> None:
    """Rerun the page (as its polling fragment does in a browser) until `condition(app)` holds."""
    deadline = time.monotonic() + seconds
    while True:
        app.run()
        assert not app.exception, app.exception[0].message
        if condition(app):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"The page never showed {what}; it shows: {visible_texts(app)[:3000]}")
        time.sleep(0.3)
