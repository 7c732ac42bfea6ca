"""Explore the data: sample digits, how a computer sees one, class balance, mean digits, facts."""

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common
from digitcore import data, plots

MAX_SEED = 10**6
# Pixels: digit grids as wide as this on every screen (a chart's height cannot follow its width, so a
# grid shrunk onto a phone would leave empty bands); about a phone's width and a half.
GRID_WIDTH = 400


def _reshuffle() -> None:
    """The next seed; after the highest one, seed 0 again, and the visitor is told so."""
    seed = int(st.session_state.get("explore_seed", 0))
    if seed >= MAX_SEED:
        st.session_state["explore_seed"] = 0
        st.session_state["explore_message"] = f"Seed {MAX_SEED:,} is the highest; Reshuffle started again from seed 0."
    else:
        st.session_state["explore_seed"] = seed + 1


def sample_grid(digits: data.Mnist) -> None:
    st.subheader("A sample of training digits")
    left, middle, right = st.columns([2, 3, 2])
    chosen = left.selectbox("Class", ["all digits"] + plots.DIGITS, key="explore_class")
    count = middle.slider("How many", min_value=12, max_value=96, value=36, step=12, key="explore_count")
    st.session_state.setdefault("explore_seed", 0)
    right.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="explore_seed")
    right.button("Reshuffle", on_click=_reshuffle, icon=":material/shuffle:", key="explore_reshuffle")
    message = st.session_state.pop("explore_message", None)
    if message:
        st.info(message, icon=":material/restart_alt:")
    pool = np.arange(len(digits.y_train))
    if chosen != "all digits":
        pool = np.flatnonzero(digits.y_train == int(chosen))
    picked = np.random.default_rng(int(st.session_state["explore_seed"])).choice(pool, size=count, replace=False)
    st.plotly_chart(
        plots.sample_grid(digits.x_train[picked], digits.y_train[picked], fit_width=GRID_WIDTH),
        key="sample_grid",
        width="content",
        config=plots.PICTURE_CHART,
    )


def how_a_computer_sees(digits: data.Mnist) -> None:
    st.subheader("How the computer sees a digit")
    st.write(
        "An image is a grid of numbers. MNIST stores each of the 28×28 pixels as one byte, "
        "0 (black background) to 255 (white ink); the network reads the same grid divided by "
        "255. Hover over a pixel to read its value."
    )
    index = st.number_input(
        "Training digit number", min_value=0, max_value=len(digits.x_train) - 1, value=0, step=1, key="explore_index"
    )
    image = digits.x_train[int(index)]
    st.caption(f"Digit {int(index)} is labelled **{int(digits.y_train[int(index)])}**.")
    raw, normalised = st.columns(2)
    raw.plotly_chart(plots.pixel_heatmap(image, normalised=False), key="raw_pixels")
    normalised.plotly_chart(
        plots.pixel_heatmap(image.astype(np.float32) / 255.0, normalised=True), key="normalised_pixels"
    )


def balance_and_means(statistics: dict) -> None:
    st.subheader("Class balance")
    left, right = st.columns([3, 2])
    left.plotly_chart(plots.class_balance(statistics["train_counts"], statistics["test_counts"]), key="balance")
    table = pd.DataFrame({"digit": range(10), "train": statistics["train_counts"], "test": statistics["test_counts"]})
    right.dataframe(table, hide_index=True, key="class_counts")
    st.subheader("The mean digit of each class")
    st.caption("Every training digit of a class averaged pixel by pixel: the blur shows how much handwriting varies.")
    st.plotly_chart(
        plots.image_grid(
            statistics["mean_images"], titles=plots.DIGITS, columns=10, value_label="mean pixel", fit_width=GRID_WIDTH
        ),
        key="mean_digits",
        width="content",
        config=plots.PICTURE_CHART,
    )
    st.subheader("Pixel intensities")
    log_scale = st.toggle("Logarithmic count axis", value=True, key="explore_log")
    st.plotly_chart(plots.pixel_histogram(statistics["histogram"], log_scale=log_scale), key="histogram")


def facts(digits: data.Mnist, statistics: dict) -> None:
    st.subheader("Dataset facts")
    train, test, size = st.columns(3)
    train.metric("Training digits", f"{len(digits.y_train):,}")
    test.metric("Test digits", f"{len(digits.y_test):,}")
    size.metric("Image size", "28 × 28", help="One byte per pixel: 0 is black background, 255 white ink.")
    st.write(
        f"Source of the cached files: `{statistics['source']}`. Each of the four files is "
        "verified by its MD5 checksum after every fetch:"
    )
    st.dataframe(
        pd.DataFrame([{"file": name, "md5": md5} for name, md5 in data.checksums().items()]),
        hide_index=True,
        key="checksums",
    )


def render() -> None:
    st.title("Explore the data")
    common.model_picker()
    digits = common.mnist()
    statistics = common.dataset_statistics()
    facts(digits, statistics)
    sample_grid(digits)
    how_a_computer_sees(digits)
    balance_and_means(statistics)


common.run_page(render, "showing the dataset")
