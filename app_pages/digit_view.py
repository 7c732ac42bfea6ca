"""One digit on Try it as the model read it: the prediction, its probabilities and saliency, the steps
that made the model input, and Save as example with the right label.

Shown for the drawing or photo in "One digit", and for the digit a visitor picks in "A number": each
digit of a number is corrected and saved on its own, so My digits learns from numbers too.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from app_pages import common
from digitcore import inference, not_a_digit, plots, registry
from digitcore.reading import preprocess


@dataclass(frozen=True)
class ShownDigit:
    """A digit on screen and everything Save as example stores with it."""

    image: np.ndarray  # (28, 28) float32, the model input
    prediction: inference.Prediction
    steps: list[preprocess.Step]
    original: bytes | Image.Image  # what it was read from: the file as uploaded or drawn, or the digit's crop
    source: str  # the samples store's source: "canvas" or "photo"
    doubtful: bool  # the not-a-digit guard doubts this is one digit
    key: str  # widget key suffix: "" for the one digit, "_2" for a number's third digit
    model: str  # the model's name


def doubt_warning(number_mode: bool) -> None:
    """The guard's sentence, across the whole reading (never squeezed beside the prediction)."""
    hint = (
        " It is saved only under a digit you pick."
        if number_mode
        else " Several digits? Choose **A number** under Read. It is saved only under a digit you pick."
    )
    st.warning(not_a_digit.MESSAGE + hint, icon=":material/help:")


def steps_strip(steps: list[preprocess.Step], image: np.ndarray) -> None:
    """Every preprocessing step; the last one is the model input, shown pixel-sharp at 4x."""
    st.markdown("**What the model is shown, step by step**")
    model_input = np.round(np.kron(image, np.ones((4, 4))) * 255).astype(np.uint8)  # 28 -> 112 px
    *earlier, last = steps or [preprocess.Step("input", "The model input", model_input)]
    title = last.title if "model input" in last.title else f"{last.title}: the model input"
    images = [(step.image, step.title) for step in earlier] + [(model_input, title)]
    st.image([png_data_url(image) for image, _ in images], caption=[title for _, title in images], width=100)


def png_data_url(image: np.ndarray) -> str:
    """A small uint8 step image as a PNG inside its own URL (data:image/png;base64,...).

    Streamlit would encode an array as a JPEG, decode it again to check its width, re-encode it at
    100 px, store it in its media files and serve it by a request of its own: for the strip's six
    or seven images that was some 15 ms of the server's CPU per stroke or upload (bench/capacity.py).
    A data URL is part of the page's message: one small lossless encoding, no request.
    """
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)  # a few KB at most: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def prediction_panel(entry: registry.ModelEntry, digit: ShownDigit, read_from: str) -> None:
    """The answer, how sure it is, the ten probabilities and where the model looked."""
    prediction = digit.prediction
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
    right.plotly_chart(
        plots.probability_bars(prediction.probabilities, prediction.digit),
        key=f"probabilities{digit.key}",
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
        common.saliency_figure(entry, digit.image, method, prediction.digit),
        key=f"saliency{digit.key}",
        config=common.STATIC_CHART,
    )


def show_unreadable(error: preprocess.ImageError, right) -> None:
    """Why an input gave no reading, in `right`: no digit in it is news (info), a bad file a warning.
    The digit another page would read from this one is forgotten."""
    st.session_state.pop(common.DIGIT_KEY, None)
    (right.info if isinstance(error, preprocess.NoDigitFound) else right.warning)(str(error))


def _save_example(digit: ShownDigit) -> None:
    """Store the digit on screen with the corrected label (or the prediction when none is picked).

    A digit the guard doubts is stored only under a label the visitor picked: an "A" is not a 4
    because the model had to answer 0-9."""
    label_key = f"teach_label{digit.key}"
    correction = st.session_state.get(label_key)
    if correction is None and digit.doubtful:
        st.session_state["teach_message"] = ("warning", "Pick the digit it is first: it was not saved.")
        return
    label = digit.prediction.digit if correction is None else int(correction)
    report = common.sample_store().save(
        digit.image,
        label,
        source=digit.source,
        original=preprocess.decode(digit.original) if isinstance(digit.original, bytes) else digit.original,
        predicted=digit.prediction.digit,
        confidence=digit.prediction.confidence,
        model=digit.model,
    )
    st.session_state[label_key] = None
    st.session_state["teach_message"] = (
        ("success", f"Saved as a **{label}** (example #{report.sample_id}). It is on the My digits page.")
        if report.added
        else (
            "info",
            f"This digit is already saved as a **{label}** (example #{report.sample_id}); it was not saved twice.",
        )
    )


def teach_panel(digit: ShownDigit) -> None:
    """Correct the label if the model is wrong, then keep the digit as one of your own examples.

    When the guard doubts the input is a digit, the label is a question the visitor must answer
    before Save as example does anything."""
    st.markdown("**Teach it your handwriting**")
    label_key = f"teach_label{digit.key}"
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    if digit.doubtful:
        left.selectbox(
            "Which digit is it? (this does not look like one)",
            list(range(10)),
            index=None,
            key=label_key,
            placeholder="pick the digit to save it",
            help="The model had to answer 0-9; say which digit this is, or do not save it.",
        )
    else:
        left.selectbox(
            "Wrong — it is a …",
            list(range(10)),
            index=None,
            key=label_key,
            placeholder=f"pick the right digit (left empty: a {digit.prediction.digit})",
            help="Pick the right digit when the prediction is wrong; leave empty when it is right.",
        )
    right.button(
        "Save as example",
        on_click=_save_example,
        args=(digit,),
        icon=":material/bookmark_add:",
        key=f"teach_save{digit.key}",
        disabled=digit.doubtful and st.session_state.get(label_key) is None,
    )
    message = st.session_state.pop("teach_message", None)
    if message:
        kind, text = message
        if kind == "success":
            st.success(text, icon=":material/check:")
        elif kind == "info":
            st.info(text)
        else:
            st.warning(text)
