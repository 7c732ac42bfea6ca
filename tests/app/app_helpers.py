"""What the app's tests share: canvas drawings and photos made by the tests themselves, small real
models, and the app opened in AppTest."""

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def drawing(strokes: list[list[tuple[int, int]]], side: int = 280, width: int = 20) -> str:
    """What the canvas sends after the user drew `strokes`: a PNG data URL, white on black."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def canvas_value(strokes: list[list[tuple[int, int]]]) -> dict:
    """The canvas component's state for a drawing (st_canvas reads it from session state)."""
    return {"drawing": {"raw": {"objects": [{"type": "path"} for _ in strokes] or [{"type": "path"}]},
                        "data": drawing(strokes)}}


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
PHOTO_SEVEN = [[(90, 110), (270, 110), (160, 380)]]


def train_small_models(directory, mnist) -> None:
    """Two real models trained in seconds: a small CNN (about 96 %, the default) and a dense one."""
    from digitcore import training
    from digitcore.architectures import get_preset

    small_cnn = get_preset("keras_basic")
    training.train_and_save(small_cnn, recipe=small_cnn.recipe.with_overrides(epochs=2), limit=12000,
                            name="small_cnn", make_default=True, models_directory=directory, mnist=mnist)
    dense = get_preset("dense_baseline")
    training.train_and_save(dense, recipe=dense.recipe.with_overrides(epochs=1), limit=3000,
                            name="small_dense", models_directory=directory, mnist=mnist)


APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST


def open_app(page: str):
    """An AppTest that has run the app and switched to app_pages/<page>.py."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    app.run()
    if page != "explore":  # the default page
        app.switch_page(f"app_pages/{page}.py")
        app.run()
    return app
