"""A number on Try it: the picture with a box and the digit over each box, the number in large type,
each digit's confidence (unsure ones marked), and a click on a digit opens it as one digit is shown
(its steps, probabilities, saliency, and Save as example with the right label).
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from app_pages import common, digit_view
from digitcore import inference, registry
from digitcore.reading import annotate, preprocess

PICKED_KEY = "number_digit"  # which digit of the number is opened (an index into the reading's digits)
READ_KEY = "number_read"  # the digest of the input the per-digit corrections on screen belong to
CROP_MARGIN = 0.15  # a saved digit's original is its box and this share of its size around it


def _ordinal(index: int) -> str:
    number = index + 1
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _crop(picture: Image.Image, box) -> Image.Image:
    """The digit's box in the picture with a margin around it: what My digits shows as its original."""
    margin = round(CROP_MARGIN * max(box.w, box.h))
    return picture.crop(
        (
            max(0, box.x - margin),
            max(0, box.y - margin),
            min(picture.width, box.right + margin),
            min(picture.height, box.bottom + margin),
        )
    )


def _digit_choice(read, doubtful: list[bool]) -> str:
    mark = " ?" if read.unsure or doubtful else ""
    return f"{read.digit} · {100 * read.confidence:.0f} %{mark}"


def show(entry: registry.ModelEntry, content: bytes, source: str, read_from: str, right) -> None:
    """Read the number in `content` (a drawing or a photo; `source` "canvas" or "photo") and show it."""
    try:
        found, picture = common.number_reading(entry, content)
    except preprocess.ImageError as error:
        digit_view.show_unreadable(error, right)
        return
    _forget_corrections_of_another_input(common.content_digest(content))
    digits = found.digits
    doubtful = [read.doubtful for read in digits]  # the guard already looked at each digit while reading
    labels = [
        annotate.Label(read.box.x, read.box.y, read.box.w, read.box.h, str(read.digit), read.unsure or doubt)
        for read, doubt in zip(digits, doubtful)
    ]
    unsure = [index for index, read in enumerate(digits) if read.unsure or doubtful[index]]
    with right:
        st.metric("Number", found.number, help="The digits left to right; a second row after a space.")
        st.image(
            annotate.boxed(picture, labels),
            caption=f"{len(digits)} digit(s) found in {len(found.rows)} row(s); orange boxes are unsure.",
        )
        st.caption(read_from)
        if unsure:
            st.warning(
                "Unsure: the "
                + ", ".join(f"{_ordinal(index)} digit ({digits[index].digit}?)" for index in unsure)
                + ". Click it below to see the model's other guesses."
            )
    picked = st.pills(
        "Each digit and how sure the model is (? marks a guess): click one to see how it was read",
        list(range(len(digits))),
        format_func=lambda index: _digit_choice(digits[index], doubtful[index]),
        key=PICKED_KEY,
    )
    if picked is None or picked >= len(digits):
        st.session_state[common.DIGIT_KEY] = {"image": digits[0].image, "source": source_word(source)}
        return
    read = digits[picked]
    shown = digit_view.ShownDigit(
        image=read.image,
        prediction=inference.to_prediction(np.asarray(read.probabilities)),
        steps=read.steps or found.steps,
        original=_crop(picture, read.box),
        source=source,
        doubtful=doubtful[picked],
        key=f"_{picked}",
        model=entry.name,
    )
    st.session_state[common.DIGIT_KEY] = {"image": read.image, "source": source_word(source)}
    st.markdown(f"#### The {_ordinal(picked)} digit")
    if shown.doubtful:
        digit_view.doubt_warning(number_mode=True)
    details, steps = st.columns([3, 2], gap="large")
    with details:
        digit_view.prediction_panel(
            entry,
            shown,
            f"Digit {picked + 1} of {len(digits)}" + (f", row {read.row + 1}" if len(found.rows) > 1 else ""),
        )
    with steps:
        digit_view.steps_strip(shown.steps, shown.image)
    digit_view.teach_panel(shown)


def _forget_corrections_of_another_input(digest: str) -> None:
    """A new drawing or photo: a digit picked in "Wrong — it is a …" for the old one is not this one's."""
    if st.session_state.get(READ_KEY) == digest:
        return
    for key in [key for key in st.session_state if str(key).startswith("teach_label_")]:
        del st.session_state[key]
    st.session_state[READ_KEY] = digest


def source_word(source: str) -> str:
    """Inside the CNN's word for where the digit came from."""
    return "drawn" if source == "canvas" else "uploaded"
