"""What the app's tests share: canvas drawings and photos made by the tests themselves, small real
models, and the app opened in AppTest."""

import base64
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PAD_KEY = "drawing_pad"  # the Try it drawing pad's widget key


def drawing_png(strokes: list[list[tuple[int, int]]], side: int = 280, width: int = 20) -> bytes:
    """The PNG the drawing pad sends after the user drew `strokes`: white on black, round ends."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_value(strokes: list[list[tuple[int, int]]], width: int = 20) -> dict:
    """The drawing pad's state after the user drew `strokes` (set it as session_state[PAD_KEY])."""
    png = "data:image/png;base64," + base64.b64encode(drawing_png(strokes, width=width)).decode("ascii")
    return {
        "drawing": {
            "sequence": len(strokes),
            "png": png if strokes else None,
            "strokes": [[width] + [value for point in points for value in point] for points in strokes],
        }
    }


def photo_of_digit(strokes: list[list[tuple[int, int]]], seed: int = 0) -> bytes:
    """A JPEG like a phone photo of a digit on paper: dark ink, uneven light, noise, blur."""
    rng = np.random.default_rng(seed)
    height, width = 480, 360
    light = np.linspace(215, 185, width)[None, :] + np.linspace(0, -15, height)[:, None]
    paper = np.clip(light + rng.normal(0, 4, (height, width)), 0, 255).astype(np.uint8)
    image = Image.fromarray(paper).convert("RGB")
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=(40, 40, 60), width=18, joint="curve")
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1.5)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


# Strokes on the 280x280 canvas, as a person would draw them.
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


def open_app(page: str, workspace: str = APP_WORKSPACE):
    """An AppTest that has run the app in `workspace` and switched to app_pages/<page>.py."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    app.query_params["ws"] = workspace  # as a bookmarked link: the visitor's own workspace
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
