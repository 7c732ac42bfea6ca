"""Try it: draw or upload one digit or a whole number, see what the model reads, each preprocessing
step, the probabilities and saliency, and save a digit (with its right label) as one of your own examples.

A stroke or an upload reruns only the `reading` fragment (not the sidebar, the title or the model
list), and work that does not change between reruns (decoding, preprocessing, reading a number,
saliency) is cached by content in common.py.

What a reload keeps: the model, the input (Draw or Upload) and the reading (One digit or A number)
are in the page's URL. The drawing, the photo and the pen width live in this visitor's session: they
survive switching pages, not a reload.
"""

import streamlit as st

from app_pages import common, digit_view, number_view, try_it_url
from app_pages.drawing_pad import NUMBER_WIDTH, PEN_WIDTH, SIDE, drawing_pad
from app_pages.try_it_url import DRAW, KEPT_READING, KEPT_SOURCE, NUMBER, READINGS, SOURCES
from digitcore import registry
from digitcore.reading import preprocess

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
PAD_KEY, NUMBER_PAD_KEY = "drawing_pad", "number_pad"
# Kept outside widget state, which Streamlit drops when the visitor leaves the page: what the
# visitor drew or uploaded, with which pen, and their choices (try_it_url) are still there when they come back.
KEPT_UPLOAD, KEPT_PEN = "try_kept_upload", "try_pen"
KEPT_DRAWING = {PAD_KEY: "try_kept_drawing", NUMBER_PAD_KEY: "try_kept_number_drawing"}


def _remember(widget: str, kept: str) -> None:
    st.session_state[kept] = st.session_state[widget]


def _remember_upload() -> None:
    """The uploader changed: keep the new file (name and bytes), or forget it when it was removed."""
    upload = st.session_state.get("upload")
    st.session_state[KEPT_UPLOAD] = None if upload is None else (upload.name, upload.getvalue())


def _forget_upload() -> None:
    st.session_state[KEPT_UPLOAD] = None


def drawn_image(number: bool) -> tuple[bytes | None, str]:
    """The drawing as PNG bytes (None before the first stroke) and a sentence about it."""
    pad_key = NUMBER_PAD_KEY if number else PAD_KEY
    kept = st.session_state.get(KEPT_DRAWING[pad_key])
    if number and kept is None:  # "12" drawn as one digit, then read as a number: the drawing comes along
        kept = st.session_state.get(KEPT_DRAWING[PAD_KEY])
    if number:
        st.caption("Write a number across the pad, white on black, one or two rows. Undo and Clear are under it.")
    else:
        st.caption("Draw one digit, white on black, as large as the square allows. Undo and Clear are under it.")
    drawing, pen = drawing_pad(
        key=pad_key,
        kept=kept,
        pen=st.session_state.get(KEPT_PEN, PEN_WIDTH),
        width=NUMBER_WIDTH if number else SIDE,
    )
    st.session_state[KEPT_DRAWING[pad_key]] = drawing
    st.session_state[KEPT_PEN] = pen
    if drawing is None or drawing.empty:
        return None, ""
    strokes = len(drawing.strokes)
    return drawing.png, f"Read from the whole drawing: {strokes} stroke{'s' if strokes != 1 else ''}."


def uploaded_image(number: bool) -> tuple[bytes | None, str]:
    """The uploaded photo's bytes (or the one kept from an earlier visit to this page) and its name."""
    st.file_uploader(
        "A photo or scan of a number" if number else "A photo or scan of one digit",
        type=UPLOAD_TYPES,
        key="upload",
        on_change=_remember_upload,
        help="Dark ink on light paper or light on dark; crop it around the " + ("number." if number else "digit."),
    )
    kept = st.session_state.get(KEPT_UPLOAD)
    if kept is None:
        return None, ""
    name, content = kept
    if st.session_state.get("upload") is None:  # back on the page: the uploader is new, the photo is kept
        text, remove = st.columns([3, 1], vertical_alignment="center")
        text.caption(f"Showing **{name}**, uploaded earlier. Upload another photo to replace it.")
        remove.button("Remove", key="remove_photo", on_click=_forget_upload, icon=":material/close:")
    return content, f"Read from **{name}**."


def _hint(source: str, number: bool) -> str:
    """What to do first, in the words of the input chosen."""
    what = "a number" if number else "a digit"
    if source == DRAW:
        where = "Write a number on the pad" if number else "Draw a digit on the canvas"
        return f"{where} to see what the model makes of it."
    return f"Upload a photo of {what} to see what the model makes of it."


def one_digit(entry: registry.ModelEntry, content: bytes, source: str, read_from: str, right) -> None:
    """The one digit of a drawing or photo: the guard's doubt, the reading, its steps, then Save."""
    kind = "canvas" if source == DRAW else "auto"
    try:
        reading = common.digit_reading(entry, content, kind)
    except preprocess.ImageError as error:
        digit_view.show_unreadable(error, right)
        return
    prepared = reading.prepared
    st.session_state[common.DIGIT_KEY] = {"image": prepared.image, "source": "drawn" if source == DRAW else "uploaded"}
    shown = digit_view.ShownDigit(
        image=prepared.image,
        prediction=reading.prediction,
        steps=prepared.steps,
        original=content,
        source="canvas" if source == DRAW else "photo",
        doubtful=reading.doubtful,
        key="",
        model=entry.name,
    )
    with right:  # the prediction first (right under the pad on a phone), then how the input became it
        if shown.doubtful:
            digit_view.doubt_warning(number_mode=False)
        digit_view.prediction_panel(entry, shown, read_from)
        digit_view.steps_strip(shown.steps, shown.image)
    digit_view.teach_panel(shown)


@st.fragment
def reading(entry: registry.ModelEntry | None, source: str, mode: str) -> None:
    """The input, its steps and the model's reading: a stroke or an upload reruns only this."""
    number = mode == NUMBER
    with common.friendly_errors("reading your number" if number else "reading your digit"):
        left, right = st.columns([1, 1] if number else [2, 3], gap="large")
        with left:
            content, read_from = drawn_image(number) if source == DRAW else uploaded_image(number)
        if content is None:
            st.session_state.pop(common.DIGIT_KEY, None)
            right.info(_hint(source, number))
            return
        if entry is None:
            right.info("Train a model on the Train page to get a prediction.")
            return
        if number:
            number_view.show(entry, content, "canvas" if source == DRAW else "photo", read_from, right)
        else:
            one_digit(entry, content, source, read_from, right)


def render() -> None:
    st.title("Try it")
    try_it_url.take()
    entry = common.model_picker()
    first, second = st.columns(2)
    source = first.radio(
        "Input",
        SOURCES,
        horizontal=True,
        key="try_source",
        on_change=_remember,
        args=("try_source", KEPT_SOURCE),
        index=SOURCES.index(try_it_url.kept_source()),
    )
    mode = second.radio(
        "Read",
        READINGS,
        horizontal=True,
        key="try_reading",
        on_change=_remember,
        args=("try_reading", KEPT_READING),
        index=READINGS.index(try_it_url.kept_reading()),
        help="One digit reads the whole input as a single digit; A number finds each digit, "
        "left to right in one or two rows, and reads them all.",
    )
    try_it_url.put(entry.name if entry else None, source, mode)
    reading(entry, source, mode)


common.run_page(render, "reading your digit")
