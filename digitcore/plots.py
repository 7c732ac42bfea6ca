"""Plotly figure builders shared by the pages: data in, figure out, nothing else."""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go

DIGITS = [str(digit) for digit in range(10)]
INK = "Greys_r"  # white ink on black, like the model sees it
TRAIN_COLOUR, VALIDATION_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e", "#2ca02c"
# Inferno starts at "#000004", one of the placeholder colours Streamlit's chart theme swaps for its
# own (it turned the background pink): the same scale from pure black.
HEAT = ["#000000"] + list(pcolors.sequential.Inferno[1:])

# Plotly's toolbar (the modebar) sits in the top 30 pixels of every chart. Titles go in the band
# below it, right above the plot, so that on a phone, where a title runs the whole width, the
# toolbar never covers it.
TOOLBAR_BAND = 32  # pixels
TITLE_BAND = 28  # pixels: one line of title
TOP_MARGIN = TOOLBAR_BAND + TITLE_BAND
MARGIN = dict(l=10, r=10, t=TOP_MARGIN, b=10)

# Tile titles in image grids are text of a fixed pixel size while the tiles shrink with the
# screen. Their band is sized for the narrowest plot the app is read on (a 390-pixel phone leaves
# about 340 pixels for a chart), so labels never reach into the row above.
NARROWEST_PLOT = 340  # pixels
TILE_TITLE_SIZE = 10  # font size in pixels
TILE_TITLE_LINE = 14  # pixels per line of tile title
TILE_TITLE_PAD = 8  # pixels around the text of a Plotly annotation (measured in Chromium)


# A legend in one row under the x axis: beside the title it runs into it on a phone.
BOTTOM_LEGEND = dict(orientation="h", x=0.0, xanchor="left", y=-0.22, yanchor="top")


def _title(text: str) -> dict:
    """A title placed just above the plot area, under the toolbar band."""
    return dict(text=text, y=1.0, yref="paper", yanchor="bottom", pad=dict(b=6), x=0.0, xref="paper", xanchor="left")


def _square(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(height=height, margin=MARGIN)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_yaxes(
        showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", scaleratio=1
    )
    return figure


def mosaic(images: np.ndarray, columns: int, gap: int = 2, row_gap: int | None = None) -> np.ndarray:
    """Tile (n, h, w) images into one float array, `columns` wide, with NaN gaps between tiles
    (`row_gap` between rows when given: room for titles)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"Expected a non-empty stack of images (n, h, w), got shape {images.shape}.")
    if columns < 1:
        raise ValueError(f"The mosaic needs at least one column, not {columns}.")
    count, height, width = images.shape
    columns = min(columns, count)
    rows = -(-count // columns)
    row_gap = gap if row_gap is None else row_gap
    tiled = np.full((rows * (height + row_gap) - row_gap, columns * (width + gap) - gap), np.nan, dtype=np.float32)
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = row * (height + row_gap), col * (width + gap)
        tiled[top : top + height, left : left + width] = image
    return tiled


def title_gap(titles: Sequence[str], columns: int, width: int, gap: int = 2) -> int:
    """Rows of pixels (in image units) to leave above each tile for its title (lines split by <br>),
    so that the title still fits when the grid is only NARROWEST_PLOT pixels wide."""
    if not titles:
        return gap
    lines = max(str(text).count("<br>") + 1 for text in titles)
    pixels_per_unit = NARROWEST_PLOT / (columns * (width + gap) - gap)
    return max(gap, int(np.ceil((lines * TILE_TITLE_LINE + TILE_TITLE_PAD) / pixels_per_unit)))


def image_grid(
    images: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    columns: int = 10,
    colorscale: str = INK,
    zmid: float | None = None,
    title: str = "",
    value_label: str = "value",
    tile_height: int = 70,
) -> go.Figure:
    """Many small images as one heatmap (fast even for a hundred tiles), titled above each tile
    (a title may hold several lines separated by "<br>")."""
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    columns = min(columns, count)
    gap = 2
    row_gap = title_gap(titles or [], columns, width, gap)
    tiled = mosaic(images, columns, gap=gap, row_gap=row_gap)
    rows = -(-count // columns)
    heatmap = go.Heatmap(
        z=tiled,
        colorscale=colorscale,
        showscale=zmid is not None,
        zmid=zmid,
        hovertemplate=f"{value_label} %{{z:.3f}}<extra></extra>",
    )
    figure = go.Figure(heatmap)
    for index, text in enumerate(titles or []):
        row, col = divmod(index, columns)
        figure.add_annotation(
            x=col * (width + gap) + (width - 1) / 2,
            y=row * (height + row_gap) - 0.5,
            text=str(text),
            showarrow=False,
            yanchor="bottom",
            font=dict(size=TILE_TITLE_SIZE),
        )
    figure.update_layout(title=_title(title), plot_bgcolor="white")
    # the height keeps each tile about tile_height tall on a wide screen, titles included
    return _square(figure, TOP_MARGIN + 20 + int(rows * tile_height * (height + row_gap) / (height + gap)))


def sample_grid(images: np.ndarray, labels: Sequence[int], columns: int = 12) -> go.Figure:
    """MNIST digits (n, 28, 28) uint8 with their labels above them."""
    return image_grid(
        np.asarray(images, dtype=np.float32),
        titles=[str(int(label)) for label in labels],
        columns=columns,
        value_label="pixel",
        title="",
    )


def pixel_heatmap(image: np.ndarray, *, normalised: bool) -> go.Figure:
    """One digit as a 28x28 grid of numbers: raw 0-255 bytes, or the 0-1 floats the model reads."""
    values = np.asarray(image, dtype=np.float32)
    if values.shape != (28, 28):
        raise ValueError(f"Expected one 28x28 digit, got shape {values.shape}.")
    if normalised:
        # at most three characters, like the raw bytes, so neighbours never run together:
        # ".07" for 0.07, "1" for 1.0, "0" for the background (the hover gives three decimals)
        text = np.where(values >= 0.995, "1", np.char.lstrip(np.char.mod("%.2f", values), "0"))
        text = np.where(values > 0, text, "0")
        title, hover = "Normalised: pixel / 255, 0.0 to 1.0", "%{z:.3f}"
        zmax = 1.0
    else:
        text, title, hover = np.char.mod("%d", values.astype(int)), "Raw: one byte per pixel, 0 to 255", "%{z:.0f}"
        zmax = 255.0
    heatmap = go.Heatmap(
        z=values,
        zmin=0.0,
        zmax=zmax,
        colorscale=INK,
        text=text,
        texttemplate="%{text}",
        # no font size: Plotly fits the text to the cells, so on a phone it shrinks instead of overlapping
        hovertemplate=f"row %{{y}}, column %{{x}}: {hover}<extra></extra>",
    )
    figure = go.Figure(heatmap)
    figure.update_layout(title=_title(title))
    return _square(figure, 560)


def class_balance(train_counts: Sequence[int], test_counts: Sequence[int]) -> go.Figure:
    """How many training and test digits of each class."""
    figure = go.Figure(
        [
            go.Bar(name="train", x=DIGITS, y=list(train_counts), marker_color=TRAIN_COLOUR),
            go.Bar(name="test", x=DIGITS, y=list(test_counts), marker_color=TEST_COLOUR),
        ]
    )
    figure.update_layout(
        barmode="group",
        title=_title("Digits per class"),
        xaxis_title="digit",
        yaxis_title="count",
        height=350,
        margin=MARGIN,
        legend=BOTTOM_LEGEND,
    )
    figure.update_xaxes(type="category", tickmode="array", tickvals=DIGITS)  # all ten, not every other one
    return figure


def pixel_histogram(counts: Sequence[int], *, log_scale: bool = True) -> go.Figure:
    """How often each intensity 0..255 occurs (`counts` has 256 entries)."""
    counts = np.asarray(counts)
    if counts.shape != (256,):
        raise ValueError(f"Expected 256 counts (one per intensity), got shape {counts.shape}.")
    figure = go.Figure(
        go.Bar(
            x=np.arange(256),
            y=counts,
            marker_color=TRAIN_COLOUR,
            hovertemplate="intensity %{x}: %{y:,} pixels<extra></extra>",
        )
    )
    figure.update_layout(
        title=_title("Pixel intensities (most pixels are black background)"),
        xaxis_title="intensity",
        yaxis_title="pixels",
        yaxis_type="log" if log_scale else "linear",
        bargap=0,
        yaxis_dtick=1 if log_scale else None,  # one tick per power of ten
        height=350,
        margin=MARGIN,
    )
    return figure


def points_of_epochs(history: Sequence) -> list[dict]:
    """Curve points of finished epochs (EpochEnd events or their dicts): the curves of a job record
    or a card written before the live points existed."""
    points = []
    for event in history:
        values = event if isinstance(event, dict) else event.to_dict()
        points.append({**values, "epochs_done": float(values["epoch"])})
    return points


def training_curves(points: Sequence) -> tuple[go.Figure, go.Figure]:
    """Loss and accuracy against epochs (with fractions), each its own figure so the two stack on any
    screen: training as a line through every point (each the mean of the steps since the previous
    one), validation as markers at the points where the held-out digits were scored."""
    rows = [point if isinstance(point, dict) else point.to_dict() for point in points]
    figures = []
    for metric, title in (("loss", "Loss"), ("accuracy", "Accuracy")):
        figure = go.Figure()
        for prefix, label, colour, mode in (
            ("", "training", TRAIN_COLOUR, "lines"),
            ("val_", "validation", VALIDATION_COLOUR, "lines+markers"),
        ):
            shown = [row for row in rows if row.get(prefix + metric) is not None]
            if not shown:
                continue
            figure.add_trace(
                go.Scatter(
                    x=[row["epochs_done"] for row in shown],
                    y=[row[prefix + metric] for row in shown],
                    mode=mode,
                    name=label,
                    line=dict(color=colour),
                )
            )
        figure.update_xaxes(title_text="epochs", rangemode="tozero")
        figure.update_layout(
            title=dict(text=title, x=0.0, xanchor="left"),
            height=260 + TOOLBAR_BAND,
            margin=MARGIN,
            legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        )
        figures.append(figure)
    return figures[0], figures[1]


CELL_PICKER = "cell picker"  # the name of the confusion matrix's clickable layer


def confusion_matrix(
    matrix: np.ndarray, *, normalised: bool, selected: tuple[int, int] | None = None, clickable: bool = False
) -> go.Figure:
    """Rows are the true digit, columns the prediction; counts, or each row as shares of 1.

    `selected` (true, predicted) is outlined. `clickable` adds an invisible marker on every cell: a
    heatmap reports no selection to Streamlit (its issue 8760), markers do, so a click on a cell
    selects that cell's marker; `picked_cell` turns the selection back into (true, predicted).
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (10, 10):
        raise ValueError(f"Expected a 10x10 confusion matrix, got shape {matrix.shape}.")
    if normalised:
        text, number_format = np.char.mod("%.3f", matrix), ".4f"
    else:
        text, number_format = np.char.mod("%d", matrix), ","
    hover = f"true %{{y}}, predicted %{{x}}: %{{customdata:{number_format}}}<extra></extra>"
    # A log-like colour for counts, else the diagonal (about 1,000) hides every mistake (1-10).
    colour = np.log10(matrix * (1000 if normalised else 1) + 1)
    heatmap = go.Heatmap(
        z=colour,
        x=DIGITS,
        y=DIGITS,
        text=text,
        texttemplate="%{text}",
        colorscale="Blues",
        showscale=False,
        customdata=matrix,
        hovertemplate=hover,
        hoverinfo="skip" if clickable else None,
    )
    figure = go.Figure(heatmap)
    if clickable:
        true_digits, predicted_digits = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
        figure.add_trace(
            go.Scatter(
                x=[DIGITS[p] for p in predicted_digits.ravel()],
                y=[DIGITS[t] for t in true_digits.ravel()],
                mode="markers",
                name=CELL_PICKER,
                showlegend=False,
                customdata=matrix.ravel(),
                hovertemplate=hover,
                marker=dict(symbol="square", size=30, color="rgba(0,0,0,0)"),
                selected=dict(marker=dict(opacity=0)),
                unselected=dict(marker=dict(opacity=0)),
            )
        )
        figure.update_layout(clickmode="event+select", dragmode=False)
    if selected is not None:
        true_digit, predicted_digit = selected
        figure.add_shape(
            type="rect",
            x0=predicted_digit - 0.5,
            x1=predicted_digit + 0.5,
            y0=true_digit - 0.5,
            y1=true_digit + 0.5,
            line=dict(color="#d62728", width=3),
        )
    figure.update_layout(
        title=_title("Row-normalised (recall per class)" if normalised else "Counts"),
        xaxis_title="predicted",
        yaxis_title="true",
        height=480 + TOOLBAR_BAND,
        margin=MARGIN,
    )
    figure.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=DIGITS)
    figure.update_xaxes(type="category", side="bottom", categoryorder="array", categoryarray=DIGITS)
    return figure


def picked_cell(points: Sequence[dict]) -> tuple[int, int] | None:
    """(true, predicted) of the cell a click selected on `confusion_matrix(clickable=True)`, if any."""
    for point in points:
        if "x" in point and "y" in point:
            return int(point["y"]), int(point["x"])
    return None


def per_class_metrics(rows: Sequence[dict]) -> go.Figure:
    """Precision, recall and F1 per digit, zoomed to where they differ."""
    figure = go.Figure(
        [
            go.Bar(name=metric, x=[str(row["digit"]) for row in rows], y=[row[metric] for row in rows])
            for metric in ("precision", "recall", "f1")
        ]
    )
    lowest = min([row[metric] for row in rows for metric in ("precision", "recall", "f1")] or [0.0])
    figure.update_layout(
        barmode="group",
        title=_title("Per-class metrics"),
        xaxis_title="digit",
        height=350,
        yaxis_range=[max(0.0, lowest - 0.02), 1.0],
        margin=MARGIN,
        legend=BOTTOM_LEGEND,
    )
    figure.update_xaxes(type="category", tickmode="array", tickvals=DIGITS)  # all ten, not every other one
    return figure


def model_comparison(rows: Sequence[dict]) -> go.Figure:
    """Test error against parameter count, one point per model.

    Both axes are logarithmic: sizes differ 20-fold and errors from 0.3 % to 90 %, and on a linear
    error axis one weak model squashes every good one onto zero. Names are in the legend (one entry
    per model, coloured like its point), never printed beside the points, where they overlap.
    """
    figure = go.Figure()
    palette = pcolors.qualitative.Dark24
    for index, row in enumerate(rows):
        error = max(100 * (1 - row["accuracy"]), 0.01)  # a perfect model still has a place on a log axis
        figure.add_trace(
            go.Scatter(
                x=[row["parameters"]],
                y=[error],
                name=row["model"],
                mode="markers",
                text=[row["model"]],
                marker=dict(size=11, color=palette[index % len(palette)], line=dict(width=1, color="white")),
                hovertemplate="%{text}: %{x:,} parameters, %{y:.2f} % error<extra></extra>",
            )
        )
    figure.update_layout(
        title=_title("Test error against size"),
        xaxis_title="parameters (log)",
        xaxis_type="log",
        yaxis_title="test error (%, log)",
        yaxis_type="log",
        height=420,
        margin=MARGIN,
        legend=dict(title="model", font=dict(size=11)),
    )
    return figure


def probability_bars(probabilities: Sequence[float], digit: int | None = None) -> go.Figure:
    """The ten class probabilities, the predicted digit highlighted (built on every stroke: see _from_template)."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.shape != (10,):
        raise ValueError(f"Expected 10 probabilities, got shape {values.shape}.")
    digit = int(np.argmax(values)) if digit is None else digit
    return _from_template(_probability_bars_template(), [_probability_bar_data(values, digit)])


def _probability_bar_data(probabilities: np.ndarray, digit: int) -> dict:
    return dict(
        y=probabilities,
        marker=dict(color=[TEST_COLOUR if index == digit else "#9aa5b1" for index in range(10)]),
        text=np.char.mod("%.1f%%", 100 * probabilities),
    )


def validated_probability_bars(probabilities: np.ndarray, digit: int) -> go.Figure:
    """probability_bars built and checked by Plotly property by property (its template)."""
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            textposition="outside",
            hovertemplate="%{x}: %{y:.4f}<extra></extra>",
            **_probability_bar_data(probabilities, digit),
        )
    )
    figure.update_layout(
        title=_title("Probability of each digit"),
        xaxis_title="digit",
        yaxis_range=[0, 1.12],
        xaxis_type="category",
        height=320 + TOOLBAR_BAND,
        margin=MARGIN,
    )
    return figure


@functools.cache
def _probability_bars_template() -> dict:
    return _without_theme(validated_probability_bars(np.full(10, 0.1), 0).to_dict())


def saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> go.Figure:
    """The saliency map as a heatmap, the 28x28 input's ink tinted blue over it (built on every
    stroke: see _from_template)."""
    image, saliency = np.asarray(image, dtype=np.float32), np.asarray(saliency, dtype=np.float32)
    if image.shape != (28, 28) or saliency.shape != (28, 28):
        raise ValueError(f"Expected two 28x28 maps, got {image.shape} and {saliency.shape}.")
    return _from_template(_saliency_overlay_template(), [dict(z=saliency), dict(z=image)])


def validated_saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> go.Figure:
    """saliency_overlay built and checked by Plotly property by property (its template)."""
    figure = go.Figure(
        [
            go.Heatmap(
                z=saliency,
                colorscale=HEAT,
                zmin=0,
                zmax=1,
                showscale=True,
                colorbar=dict(title="importance"),
                hovertemplate="row %{y}, column %{x}: importance %{z:.2f}<extra></extra>",
            ),
            go.Heatmap(
                z=image,
                colorscale=[[0.0, "rgba(127,219,255,0)"], [1.0, "rgba(127,219,255,0.45)"]],
                zmin=0,
                zmax=1,
                showscale=False,
                hoverinfo="skip",
                name="ink",
            ),
        ]
    )
    figure.update_layout(title=_title("Which pixels mattered (blue tint: the ink)"))
    return _square(figure, 380 + TOOLBAR_BAND)


@functools.cache
def _saliency_overlay_template() -> dict:
    blank = np.zeros((28, 28), dtype=np.float32)
    return _without_theme(validated_saliency_overlay(blank, blank).to_dict())


def _without_theme(template: dict) -> dict:
    """The template without Plotly's theme (layout.template), which each new figure takes from the
    theme in force when it is made (Streamlit installs its own): a cached copy would go stale."""
    layout = {key: value for key, value in template["layout"].items() if key != "template"}
    return {**template, "layout": layout}


def _from_template(template: dict, data: list[dict]) -> go.Figure:
    """A figure made from a validated template (a to_dict()) with each trace's data replaced.

    Plotly checks every property of a new figure, about 9 ms per figure on this project's CPU; Try it
    builds two figures on every stroke, where that was a third of the server's work. Everything
    but the data is checked once, in the template; the data are arrays of the same shape and kind.
    """
    traces = [{**copy.deepcopy(trace), **changes} for trace, changes in zip(template["data"], data, strict=True)]
    return go.Figure({"data": traces, "layout": copy.deepcopy(template["layout"])}, _validate=False)
