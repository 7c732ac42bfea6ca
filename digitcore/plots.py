"""Plotly figure builders shared by the pages: data in, figure out, nothing else."""

from __future__ import annotations

import copy
import functools
import hashlib
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


# Pictures have no axes: no tick marks, labels, lines or grid (Streamlit's theme adds tick marks otherwise).
NO_AXIS = dict(showticklabels=False, ticks="", showline=False, showgrid=False, zeroline=False)


def _square(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(height=height, margin=MARGIN)
    figure.update_xaxes(**NO_AXIS)
    figure.update_yaxes(**NO_AXIS, autorange="reversed", scaleanchor="x", scaleratio=1)
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


# st.plotly_chart's config for pictures (galleries): no toolbar. Zooming a grid of digits helps no one, and
# on a chart as narrow as a few tiles the toolbar wraps onto the tiles' titles.
PICTURE_CHART = {"displayModeBar": False}
COLOUR_BAR_WIDTH = 90  # pixels beside a grid that shows its colour scale
TILE_PICKER = "tile picker"  # the name of an image grid's clickable layer


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
    fit_width: int | None = None,
    clickable: bool = False,
) -> go.Figure:
    """Many small images as one heatmap (fast even for a hundred tiles), titled above each tile
    (a title may hold several lines separated by "<br>").

    The figure has its own width, `tile_height` pixels a tile, for st.plotly_chart(width="content"):
    a grid of a few tiles stays as small as they are instead of sitting in a page-wide empty strip,
    and a grid at most NARROWEST_PLOT wide looks the same on a phone. `fit_width` (pixels) sizes the
    tiles so that the grid of tiles is that wide instead, without its colour scale (draw the tiles
    large with `enlarged` to read their values). `clickable` adds an invisible
    marker on each tile (a heatmap reports no selection to Streamlit); `picked_tile` reads a click.
    """
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    columns = min(columns, count)
    gap = 2
    row_gap = title_gap(titles or [], columns, width, gap)
    tiled = mosaic(images, columns, gap=gap, row_gap=row_gap)
    if fit_width is not None:
        tile_height = max(1, int(fit_width * height / tiled.shape[1]))
    show_scale = zmid is not None and fit_width is None
    heatmap = go.Heatmap(
        z=tiled,
        colorscale=colorscale,
        showscale=show_scale,
        zmid=zmid,
        hovertemplate=f"{value_label} %{{z:.3f}}<extra></extra>",
        hoverinfo="skip" if clickable else None,
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
    if clickable:
        rows_of, columns_of = np.divmod(np.arange(count), columns)
        figure.add_trace(
            go.Scatter(
                x=columns_of * (width + gap) + (width - 1) / 2,
                y=rows_of * (height + row_gap) + (height - 1) / 2,
                customdata=np.arange(count),
                mode="markers",
                name=TILE_PICKER,
                showlegend=False,
                hovertemplate=f"{value_label} map %{{customdata}}: tap to see it large<extra></extra>",
                marker=dict(symbol="square", size=max(8, tile_height - 4), color="rgba(0,0,0,0)"),
                selected=dict(marker=dict(opacity=0)),
                unselected=dict(marker=dict(opacity=0)),
            )
        )
        figure.update_layout(clickmode="event+select", dragmode=False)
    figure.update_layout(title=_title(title), plot_bgcolor="white")
    pixels_per_unit = tile_height / height
    plot_width = int(np.ceil(tiled.shape[1] * pixels_per_unit))
    plot_height = int(np.ceil(tiled.shape[0] * pixels_per_unit))
    # Shown without a toolbar (PICTURE_CHART), a grid without a title needs only a band for its first
    # row's tile titles above the tiles.
    top = TOP_MARGIN if title else TITLE_BAND
    _square(figure, top + MARGIN["b"] + plot_height)
    figure.update_layout(margin={**MARGIN, "t": top})
    side = COLOUR_BAR_WIDTH if show_scale else 0
    figure.update_layout(width=MARGIN["l"] + MARGIN["r"] + plot_width + side)
    figure.update_xaxes(range=[-0.5, tiled.shape[1] - 0.5], constrain="domain")
    figure.update_yaxes(range=[tiled.shape[0] - 0.5, -0.5], autorange=False, constrain="domain")
    return figure


def picked_tile(points: Sequence[dict]) -> int | None:
    """The index of the tile a click selected on `image_grid(clickable=True)`, if any."""
    for point in points:
        if point.get("customdata") is not None:
            value = point["customdata"]
            return int(value[0] if isinstance(value, list) else value)
    return None


ENLARGED_SIDE = 300  # pixels: as wide as a phone's chart, so the square fills it there and on a desktop


def enlarged(
    image: np.ndarray, *, title: str, colorscale: str = INK, zmid: float | None = None, value_label: str = "value"
) -> go.Figure:
    """One filter or feature map drawn large, each cell's value written in it when the cells are few
    enough to hold a number (a 5x5 filter), else on hover (no colour bar: it would take the width)."""
    values = np.asarray(image, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"Expected one 2-D map, got shape {values.shape}.")
    written = values.size <= 100
    heatmap = go.Heatmap(
        z=values,
        colorscale=colorscale,
        zmid=zmid,
        showscale=False,
        text=np.char.mod("%.2f", values) if written else None,
        texttemplate="%{text}" if written else None,
        hovertemplate=f"row %{{y}}, column %{{x}}: {value_label} %{{z:.3f}}<extra></extra>",
    )
    figure = go.Figure(heatmap)
    figure.update_layout(title=_title(title))
    return _square(figure, ENLARGED_SIDE + TOP_MARGIN + MARGIN["b"])


def sample_grid(
    images: np.ndarray, labels: Sequence[int], columns: int = 12, fit_width: int | None = None
) -> go.Figure:
    """MNIST digits (n, 28, 28) uint8 with their labels above them (`fit_width`: see image_grid)."""
    return image_grid(
        np.asarray(images, dtype=np.float32),
        titles=[str(int(label)) for label in labels],
        columns=columns,
        value_label="pixel",
        title="",
        fit_width=fit_width,
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
        showscale=False,  # every cell writes its value: a colour bar would only take the cells' width
    )
    figure = go.Figure(heatmap)
    figure.update_layout(title=_title(title))
    # about as tall as a phone's chart is wide, so there the square grid leaves no empty band
    return _square(figure, 420)


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
        title=_title("Most pixels are black (0)"),  # short: a phone shows one line of title
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


MODEL_PALETTE = pcolors.qualitative.Dark24


def model_colours(names: Sequence[str]) -> dict[str, str]:
    """A colour per model name that stays with the model when others are added or removed: each name
    hashes to a palette slot; a name whose slot is taken (in name order) takes the next free one."""
    colours: dict[str, str] = {}
    for name in sorted(set(names)):
        slot = int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(MODEL_PALETTE)
        taken = set(colours.values())
        for step in range(len(MODEL_PALETTE)):
            candidate = MODEL_PALETTE[(slot + step) % len(MODEL_PALETTE)]
            if candidate not in taken:
                break
        colours[name] = candidate  # more models than colours: the last slot tried is shared
    return colours


def log_ticks(low: float, high: float, unit: str = "", most: int = 6) -> tuple[list[float], list[str]]:
    """Ticks at 1, 2 and 5 times each power of ten from `low` to `high` (only the powers of ten when that
    makes more than `most`), written out in full ("0.2 %", "1 %", "20k"): Plotly's own log ticks
    label 0.9 as a bare "9", and their minor labels run together on a phone."""
    for mantissas in ((1, 2, 3, 5), (1, 2, 5), (1, 3), (1,)):
        values = [
            mantissa * 10.0**exponent
            for exponent in range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1)
            for mantissa in mantissas
        ]
        inside = [value for value in values if low / 1.001 <= value <= high * 1.001]
        if len(inside) < 2:  # a narrow range: the ticks either side of it too
            inside = [max(value for value in values if value < low), *inside]
            inside.append(min(value for value in values if value > high))
        if len(inside) <= most:
            break
    return inside, [_short_number(value) + unit for value in inside]


def _short_number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def model_comparison(rows: Sequence[dict]) -> go.Figure:
    """Test error against parameter count, one point per model.

    Both axes are logarithmic: sizes differ 20-fold and errors from 0.3 % to 90 %, and on a linear
    error axis one weak model squashes every good one onto zero. Names are in the legend (one entry
    per model, coloured like its point), never printed beside the points, where they overlap. The
    legend sits under the plot, where on a phone it takes rows, not half the width.
    """
    figure = go.Figure()
    colours = model_colours([row["model"] for row in rows])
    errors = [max(100 * (1 - row["accuracy"]), 0.01) for row in rows]  # a perfect model still has a place
    sizes = [max(int(row["parameters"]), 1) for row in rows]
    for row, error, size in zip(rows, errors, sizes, strict=True):
        figure.add_trace(
            go.Scatter(
                x=[size],
                y=[error],
                name=row["model"],
                mode="markers",
                text=[row["model"]],
                marker=dict(size=11, color=colours[row["model"]], line=dict(width=1, color="white")),
                hovertemplate="%{text}: %{x:,} parameters, %{y:.2f} % error<extra></extra>",
            )
        )
    legend_rows = -(-len(rows) // 2)  # a phone fits two names a row under the plot
    figure.update_layout(
        title=_title("Test error against size"),
        xaxis_title="parameters (log)",
        xaxis_type="log",
        yaxis_title="test error (log)",
        yaxis_type="log",
        height=420 + 20 * legend_rows,
        margin=MARGIN,
        legend=dict(orientation="h", x=0.0, xanchor="left", y=-0.15, yanchor="top", font=dict(size=11)),
    )
    if rows:
        y_ticks, y_text = log_ticks(min(errors), max(errors), " %")
        x_ticks, x_text = log_ticks(min(sizes), max(sizes), most=4)  # four labels fit a phone's width
        figure.update_yaxes(tickmode="array", tickvals=y_ticks, ticktext=y_text)
        figure.update_xaxes(tickmode="array", tickvals=x_ticks, ticktext=x_text)
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
