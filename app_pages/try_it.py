"""Try it: draw a digit or upload a photo, see each preprocessing step, the prediction and saliency,
and save it (with its right label) as one of your own examples."""

import numpy as np
import streamlit as st

from digitcore import explain, inference, plots, preprocess
from app_pages import common

CANVAS_SIDE = 280  # pixels on screen: ten per MNIST pixel
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
TEACH_KEY = "teach_digit"  # what Save as example stores: the digit on screen and the model's reading


def canvas_key() -> str:
    """The canvas's widget key; Clear moves to a new key, which gives an empty canvas."""
    return f"canvas_{st.session_state.setdefault('canvas_round', 0)}"


def _clear() -> None:
    st.session_state["canvas_round"] = st.session_state.get("canvas_round", 0) + 1
    st.session_state.pop(common.DIGIT_KEY, None)


def drawn_image() -> np.ndarray | None:
    """The canvas as RGBA pixels (280, 280, 4), or None before the first stroke."""
    from streamlit_drawable_canvas import st_canvas  # imports only inside a Streamlit run

    stroke = st.slider("Stroke width", min_value=6, max_value=40, value=20, key="stroke_width")
    result = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                       height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
                       return_image_data=True, update_streamlit=True, key=canvas_key())
    st.button("Clear", on_click=_clear, icon=":material/ink_eraser:", key="clear_canvas")
    if not (result.json_data or {}).get("objects"):
        return None  # nothing drawn yet (a cleared canvas still sends its black background)
    return result.image_data


def uploaded_image():
    """The uploaded file decoded safely, or None; a bad file raises preprocess.ImageError."""
    upload = st.file_uploader("A photo or scan of one digit", type=UPLOAD_TYPES, key="upload",
                              help="Dark ink on light paper or light on dark; crop it around the digit.")
    if upload is None:
        return None
    return preprocess.decode(upload.getvalue())


def steps_strip(prepared: preprocess.Preprocessed) -> None:
    st.markdown("**What the model is shown, step by step**")
    model_input = np.round(np.kron(prepared.image, np.ones((4, 4))) * 255).astype(np.uint8)  # 28 -> 112 px
    images = [(step.image, step.title) for step in prepared.steps] + [(model_input, "28×28 model input")]
    st.image([image for image, _ in images], caption=[title for _, title in images], width=100, clamp=True)


def prediction_panel(model, prepared: preprocess.Preprocessed) -> inference.Prediction:
    prediction = inference.classify(model, prepared.image)
    left, right = st.columns([1, 2])
    left.metric("Prediction", str(prediction.digit), help="The digit with the highest probability.")
    left.metric("Confidence", f"{100 * prediction.confidence:.1f} %")
    if prediction.unsure:
        second = prediction.top3[1]
        left.warning(f"Unsure: below {100 * inference.UNSURE_THRESHOLD:.0f} % confidence. Best guess "
                     f"{prediction.digit}, then {second[0]} ({100 * second[1]:.0f} %).")
    right.plotly_chart(plots.probability_bars(prediction.probabilities, prediction.digit), key="probabilities")
    method = left.radio("Saliency", ["occlusion", "gradient"], horizontal=True, key="saliency_method",
                        help="occlusion: how much hiding a 4×4 patch around a pixel lowers the score; "
                             "gradient: how strongly a small change of the pixel moves the score.")
    importance = explain.saliency(model, prepared.image, method=method, digit=prediction.digit)
    right.plotly_chart(plots.saliency_overlay(prepared.image, importance), key="saliency")
    return prediction


def _save_example() -> None:
    """Store the digit on screen with the corrected label (or the prediction when none is picked)."""
    digit = st.session_state.get(TEACH_KEY)
    if digit is None:
        return
    correction = st.session_state.get("teach_label")
    label = digit["predicted"] if correction is None else int(correction)
    sample_id = common.sample_store().add(digit["image"], label, source=digit["source"], original=digit["original"],
                                          predicted=digit["predicted"], confidence=digit["confidence"],
                                          model=digit["model"])
    st.session_state["teach_label"] = None
    st.session_state["teach_message"] = (f"Saved as a **{label}** (example #{sample_id}). "
                                         "It is on the My digits page.")


def teach_panel(prediction: inference.Prediction) -> None:
    """Correct the label if the model is wrong, then keep the digit as one of your own examples."""
    st.markdown("**Teach it your handwriting**")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    left.selectbox("Wrong — it is a …", list(range(10)), index=None, key="teach_label",
                   placeholder=f"pick the right digit (left empty: a {prediction.digit})",
                   help="Pick the right digit when the prediction is wrong; leave empty when it is right.")
    right.button("Save as example", on_click=_save_example, icon=":material/bookmark_add:", key="teach_save")
    message = st.session_state.pop("teach_message", None)
    if message:
        st.success(message, icon=":material/check:")


def render() -> None:
    st.title("Try it")
    entry = common.model_picker()
    source = st.radio("Input", ["Draw", "Upload a photo"], horizontal=True, key="try_source")
    left, right = st.columns([2, 3], gap="large")
    with left:
        try:
            if source == "Draw":
                st.caption("Draw one digit, white on black, as large as the square allows.")
                image, kind = drawn_image(), "canvas"
            else:
                image, kind = uploaded_image(), "auto"
        except preprocess.ImageError as error:
            st.warning(str(error))
            return
    if image is None:
        right.info("Draw a digit on the canvas or upload a photo to see what the model makes of it.")
        return
    try:
        prepared = preprocess.to_mnist(image, kind=kind)
    except preprocess.NoDigitFound as error:
        right.info(str(error))
        return
    except preprocess.ImageError as error:
        right.warning(str(error))
        return
    st.session_state[common.DIGIT_KEY] = {"image": prepared.image, "source": "drawn" if kind == "canvas" else "uploaded"}
    with right:
        steps_strip(prepared)
    if entry is None:
        st.info("Train a model on the Train page to get a prediction.")
        return
    prediction = prediction_panel(common.load_model(entry), prepared)
    st.session_state[TEACH_KEY] = {"image": prepared.image, "original": image, "source": "canvas" if kind == "canvas" else "photo",
                                   "predicted": prediction.digit, "confidence": prediction.confidence, "model": entry.name}
    teach_panel(prediction)


common.run_page(render, "reading your digit")
