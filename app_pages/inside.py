"""Inside the CNN: the first layer's filters and every convolution and pooling layer's feature maps."""

import numpy as np
import streamlit as st

from app_pages import common, layer_table, tap_to_select
from digitcore import ensemble, explain, inference, not_a_digit, plots

FROM_TRY_IT, FROM_MNIST = "The digit from Try it", "An MNIST test digit"
LAYER_TABLE_HEIGHT = 400  # pixels: about eight layers, the rest a scroll away
MAX_CHANNELS = 64  # feature maps drawn per layer at most (a browser slows down beyond that)


def choose_digit() -> tuple[np.ndarray, str]:
    """The digit to look at, (28, 28) float32 in [0, 1], and a sentence saying where it came from."""
    current = st.session_state.get(common.DIGIT_KEY)
    options = [FROM_TRY_IT, FROM_MNIST] if current is not None else [FROM_MNIST]
    source = st.radio(
        "Digit",
        options,
        horizontal=True,
        key="inside_source",
        help="Draw or upload a digit on the Try it page to look at your own.",
    )
    if source == FROM_TRY_IT and current is not None:
        return current["image"], f"the digit {current['source']} on Try it"
    digits = common.mnist()
    index = st.number_input(
        "Test digit number", min_value=0, max_value=len(digits.x_test) - 1, value=0, step=1, key="inside_index"
    )
    return digits.x_test[int(index)].astype(np.float32) / 255.0, (
        f"MNIST test digit {int(index)}, labelled {int(digits.y_test[int(index)])}"
    )


GRID_COLUMNS = 8  # tiles a row
GRID_WIDTH = 320  # pixels: a grid fits a phone's chart, so it is drawn the same there as on a desktop


def _tile_clicked(grid: str) -> None:
    """A click on a tile of `grid`: that tile becomes the one drawn large."""
    event = st.session_state.get(grid)
    tile = plots.picked_tile(event.selection.points if event is not None else [])
    if tile is not None:
        st.session_state[f"{grid}_large"] = tile


def tile_grid(grid: str, stack: np.ndarray, *, names: list[str], colorscale: str, zmid, value_label: str) -> None:
    """A grid of small maps; pick one in the box, or click or tap it, to see it large with its values.
    Side by side on a wide screen, one under the other on a phone."""
    small, large = st.columns([3, 2], gap="large")
    small.plotly_chart(
        plots.image_grid(
            stack,
            titles=[name.split(" ")[-1] for name in names] if len(stack) > 1 else None,
            columns=GRID_COLUMNS,
            colorscale=colorscale,
            zmid=zmid,
            value_label=value_label,
            fit_width=GRID_WIDTH,
            clickable=True,
        ),
        key=grid,
        on_select=lambda: _tile_clicked(grid),
        selection_mode="points",
        width="content",
        config=plots.PICTURE_CHART,
    )
    large_key = f"{grid}_large"
    if st.session_state.get(large_key, 0) >= len(stack):  # fewer channels shown than before
        st.session_state[large_key] = 0
    picked = large.selectbox(
        "See one large (or click a tile)",
        range(len(stack)),
        format_func=lambda index: names[index],
        key=large_key,
    )
    large.plotly_chart(
        plots.enlarged(stack[picked], title=names[picked], colorscale=colorscale, zmid=zmid, value_label=value_label),
        key=f"{grid}_enlarged",
        width=360,  # a phone's width: large enough to read, never the whole of a desktop's page
    )


def filters_section(model) -> None:
    st.subheader("The first layer's filters")
    try:
        filters = explain.first_layer_filters(model)  # (filters, height, width)
    except ValueError as error:
        st.info(str(error))
        return
    st.caption(
        f"{len(filters)} kernels of {filters.shape[1]}×{filters.shape[2]} weights. Each slides over "
        "the digit; red weights reward ink under them, blue ones penalise it: edge and stroke detectors."
    )
    limit = float(np.abs(filters).max()) or 1.0
    tile_grid(
        "filters",
        filters / limit,
        names=[f"filter {index}" for index in range(len(filters))],
        colorscale="RdBu_r",
        zmid=0.0,
        value_label="weight (scaled)",
    )


def feature_maps_section(model, image: np.ndarray) -> None:
    st.subheader("Feature maps")
    maps = explain.feature_maps(model, image)
    if not maps:
        st.info("This model has no convolution or pooling layers: it looks at all 784 pixels at once.")
        return
    most = max(layer.maps.shape[-1] for layer in maps)
    # step 1 up to the largest layer's own count: a step of 4 never reached channels 28-29 of 30
    limit = min(MAX_CHANNELS, most)
    shown = (
        st.slider(
            "Channels shown per layer",
            min_value=1,
            max_value=limit,
            value=min(16, limit),
            step=1,
            key="inside_channels",
        )
        if limit > 1
        else limit
    )
    st.caption(
        "Bright means the channel responded strongly there. Pooling halves the size and keeps "
        "the strongest response of each 2×2 block; deeper layers respond to larger parts of the digit."
    )
    for number, layer in enumerate(maps):
        height, width, channels = layer.maps.shape
        count = min(shown, channels)
        st.markdown(f"**{number + 1}. {layer.layer}** · {layer.kind} · {height}×{width} × {channels} channels")
        st.caption(
            f"Channels 0–{count - 1} of {channels} shown"
            if count < channels
            else f"All {channels} channels shown (0–{channels - 1})"
        )
        tile_grid(
            f"maps_{layer.layer}",
            np.transpose(layer.maps[:, :, :count], (2, 0, 1)),  # (channels, height, width)
            names=[f"{layer.layer} channel {channel}" for channel in range(count)],
            colorscale="Viridis",
            zmid=None,
            value_label="activation",
        )


def render() -> None:
    st.title("Inside the CNN")
    entry = common.model_picker()
    if entry is None:
        st.info("There is no trained model to look inside yet. Train one on the Train page.")
        return
    model = common.load_model(entry)
    left, right = st.columns([1, 2], gap="large")
    with left:
        image, described = choose_digit()
        prediction = inference.classify(model, image)
        st.image(
            np.round(np.kron(image, np.ones((5, 5))) * 255).astype(np.uint8),
            width=140,
            caption=f"{described}; {entry.name} reads {prediction.digit} ({100 * prediction.confidence:.1f} %)",
        )
        with common.friendly_errors("checking whether this is a digit"):
            if not_a_digit.check(image).not_a_digit:
                st.caption(
                    "This does not look like a single digit, so what the layers show is the model "
                    "forcing it into one of 0-9."
                )
    with right:
        st.markdown(f"**Layers of {entry.name}**")
        with st.container(height=LAYER_TABLE_HEIGHT, border=False):  # its rows scroll: the filters stay in view
            layer_table.show(common.layers_of(str(entry.path), entry.path.stat().st_mtime_ns), with_names=True)
    members = ensemble.members_of(entry.card)
    if members:  # an ensemble: its layers are whole models, each with its own filters and maps
        st.info(
            f"{entry.name} averages the probabilities of {len(members)} models ({', '.join(members)}). "
            "Pick one of them in the sidebar to see its filters and feature maps."
        )
        return
    filters_section(model)
    feature_maps_section(model, image)
    tap_to_select.enable()  # last: an element of no height still takes a gap, at the page's end it shows none


common.run_page(render, "looking inside the model")
