"""Try it: draw a digit or upload a photo, see each preprocessing step, the prediction and saliency,
and save it (with its right label) as one of your own examples.

A stroke or an upload reruns only the `reading` fragment (not the sidebar, the title or the model
list), and work that does not change between reruns (decoding, preprocessing, saliency) is cached
by content in common.py.
"""

import numpy as np
import streamlit as st

from app_pages import common
from app_pages.drawing_pad import drawing_pad
from digitcore import inference, not_a_digit, plots, preprocess

DRAW, UPLOAD = "Draw", "Upload a photo"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
PAD_KEY = "drawing_pad"
# Kept outside widget state, which Streamlit drops when the visitor leaves the page: what the
# visitor drew or uploaded (and which of the two) is still there when they come back.
KEPT_SOURCE, KEPT_DRAWING, KEPT_UPLOAD = "try_kept_source", "try_kept_drawing", "try_kept_upload"
TEACH_KEY = "teach_digit"  # what Save as example stores: the digit on screen and the model's reading


def _remember_source() -> None:
    st.session_state[KEPT_SOURCE] = st.session_state["try_source"]


def _remember_upload() -> None:
    """The uploader changed: keep the new file (name and bytes), or forget it when it was removed."""
    upload = st.session_state.get("upload")
    st.session_state[KEPT_UPLOAD] = None if upload is None else (upload.name, upload.getvalue())


def drawn_image() -> tuple[bytes | None, str]:
    """The drawing as PNG bytes (None before the first stroke) and a sentence about it."""
    st.caption("Draw one digit, white on black, as large as the square allows. Undo and Clear are under it.")
    drawing = drawing_pad(key=PAD_KEY, kept=st.session_state.get(KEPT_DRAWING))
    st.session_state[KEPT_DRAWING] = drawing
    if drawing is None or drawing.empty:
        return None, ""
    strokes = len(drawing.strokes)
    return drawing.png, f"Read from the whole drawing: {strokes} stroke{'s' if strokes != 1 else ''}."


def uploaded_image() -> tuple[bytes | None, str]:
    """The uploaded photo's bytes (or the one kept from an earlier visit to this page) and its name."""
    st.file_uploader(
        "A photo or scan of one digit",
        type=UPLOAD_TYPES,
        key="upload",
        on_change=_remember_upload,
        help="Dark ink on light paper or light on dark; crop it around the digit.",
    )
    kept = st.session_state.get(KEPT_UPLOAD)
    if kept is None:
        return None, ""
    name, content = kept
    if st.session_state.get("upload") is None:  # back on the page: the uploader is new, the photo is kept
        st.caption(f"Showing **{name}**, uploaded earlier. Upload another photo to replace it.")
    return content, f"Read from **{name}**."


def steps_strip(prepared: preprocess.Preprocessed) -> None:
    """Every preprocessing step; the last one is the model input, shown pixel-sharp at 4x."""
    st.markdown("**What the model is shown, step by step**")
    *earlier, last = prepared.steps
    model_input = np.round(np.kron(prepared.image, np.ones((4, 4))) * 255).astype(np.uint8)  # 28 -> 112 px
    title = last.title if "model input" in last.title else f"{last.title}: the model input"
    images = [(step.image, step.title) for step in earlier] + [(model_input, title)]
    st.image([image for image, _ in images], caption=[title for _, title in images], width=100, clamp=True)


def _not_a_digit(image) -> str | None:
    """The guard's sentence when the input does not look like one digit (a letter, a scribble, "12"), else None.

    The guard is a help, not a gate: without its file the page still reads digits, and says nothing.
    """
    try:
        verdict = not_a_digit.check(image)
    except not_a_digit.GuardUnavailable as error:
        common.log.warning("not-a-digit guard unavailable: %s", error)
        return None
    return verdict.message if verdict.not_a_digit else None


def prediction_panel(entry, model, prepared: preprocess.Preprocessed, read_from: str) -> inference.Prediction:
    prediction = inference.classify(model, prepared.image)
    left, right = st.columns([1, 2])
    left.metric("Prediction", str(prediction.digit), help="The digit with the highest probability.")
    left.metric("Confidence", f"{100 * prediction.confidence:.1f} %")
    left.caption(read_from)
    if prediction.unsure:
        second = prediction.top3[1]
        left.warning(
            f"Unsure: below {100 * inference.UNSURE_THRESHOLD:.0f} % confidence. Best guess "
            f"{prediction.digit}, then {second[0]} ({100 * second[1]:.0f} %)."
        )
    doubt = _not_a_digit(prepared.image)
    if doubt is not None:
        left.warning(doubt, icon=":material/help:")
    right.plotly_chart(
        plots.probability_bars(prediction.probabilities, prediction.digit),
        key="probabilities",
        config=common.STATIC_CHART,
    )
    method = left.radio(
        "Saliency",
        ["occlusion", "gradient"],
        horizontal=True,
        key="saliency_method",
        help="occlusion: how much hiding a 4×4 patch around a pixel lowers the score; "
        "gradient: how strongly a small change of the pixel moves the score.",
    )
    right.plotly_chart(
        common.saliency_figure(entry, prepared.image, method, prediction.digit),
        key="saliency",
        config=common.STATIC_CHART,
    )
    return prediction


def _save_example() -> None:
    """Store the digit on screen with the corrected label (or the prediction when none is picked)."""
    digit = st.session_state.get(TEACH_KEY)
    if digit is None:
        return
    correction = st.session_state.get("teach_label")
    label = digit["predicted"] if correction is None else int(correction)
    sample_id = common.sample_store().add(
        digit["image"],
        label,
        source=digit["source"],
        original=preprocess.decode(digit["original"]),
        predicted=digit["predicted"],
        confidence=digit["confidence"],
        model=digit["model"],
    )
    st.session_state["teach_label"] = None
    st.session_state["teach_message"] = f"Saved as a **{label}** (example #{sample_id}). It is on the My digits page."


def teach_panel(prediction: inference.Prediction) -> None:
    """Correct the label if the model is wrong, then keep the digit as one of your own examples."""
    st.markdown("**Teach it your handwriting**")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    left.selectbox(
        "Wrong — it is a …",
        list(range(10)),
        index=None,
        key="teach_label",
        placeholder=f"pick the right digit (left empty: a {prediction.digit})",
        help="Pick the right digit when the prediction is wrong; leave empty when it is right.",
    )
    right.button("Save as example", on_click=_save_example, icon=":material/bookmark_add:", key="teach_save")
    message = st.session_state.pop("teach_message", None)
    if message:
        st.success(message, icon=":material/check:")


@st.fragment
def reading(entry, source: str) -> None:
    """The input, its steps and the model's reading: a stroke or an upload reruns only this."""
    with common.friendly_errors("reading your digit"):
        left, right = st.columns([2, 3], gap="large")
        with left:
            content, read_from = drawn_image() if source == DRAW else uploaded_image()
        if content is None:
            st.session_state.pop(common.DIGIT_KEY, None)
            right.info("Draw a digit on the canvas or upload a photo to see what the model makes of it.")
            return
        kind = "canvas" if source == DRAW else "auto"
        try:
            prepared = common.prepared_digit(common.content_digest(content), content, kind)
        except preprocess.NoDigitFound as error:
            st.session_state.pop(common.DIGIT_KEY, None)
            right.info(str(error))
            return
        except preprocess.ImageError as error:
            st.session_state.pop(common.DIGIT_KEY, None)
            right.warning(str(error))
            return
        st.session_state[common.DIGIT_KEY] = {
            "image": prepared.image,
            "source": "drawn" if source == DRAW else "uploaded",
        }
        if entry is None:
            right.info("Train a model on the Train page to get a prediction.")
            return
        with right:  # the prediction first (right under the pad on a phone), then how the input became it
            prediction = prediction_panel(entry, common.load_model(entry), prepared, read_from)
            steps_strip(prepared)
        st.session_state[TEACH_KEY] = {
            "image": prepared.image,
            "original": content,
            "source": "canvas" if source == DRAW else "photo",
            "predicted": prediction.digit,
            "confidence": prediction.confidence,
            "model": entry.name,
        }
        teach_panel(prediction)


def render() -> None:
    st.title("Try it")
    entry = common.model_picker()
    sources = [DRAW, UPLOAD]
    st.radio(
        "Input",
        sources,
        horizontal=True,
        key="try_source",
        on_change=_remember_source,
        index=sources.index(st.session_state.get(KEPT_SOURCE, DRAW)),
    )
    reading(entry, st.session_state["try_source"])


common.run_page(render, "reading your digit")
