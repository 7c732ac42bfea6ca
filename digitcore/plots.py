"""Plotly figure builders shared by the pages: data in, figure out, nothing else."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DIGITS = [str(digit) for digit in range(10)]
INK = "Greys_r"  # white ink on black, like the model sees it
TRAIN_COLOUR, VALIDATION_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e", "#2ca02c"
# Inferno starts at "#000004", one of the placeholder colours Streamlit's chart theme swaps for its
# own (it turned the background pink): the same scale from pure black.
HEAT = ["#000000"] + list(pcolors.sequential.Inferno[1:])


def _square(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                        scaleanchor="x", scaleratio=1)
    return figure


def mosaic(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """Tile (n, h, w) images into one float array, `columns` wide, with NaN gaps between tiles."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"Expected a non-empty stack of images (n, h, w), got shape {images.shape}.")
    if columns < 1:
        raise ValueError(f"The mosaic needs at least one column, not {columns}.")
    count, height, width = images.shape
    columns = min(columns, count)
    rows = -(-count // columns)
    tiled = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, dtype=np.float32)
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = row * (height + gap), col * (width + gap)
        tiled[top:top + height, left:left + width] = image
    return tiled


def image_grid(images: np.ndarray, *, titles: Sequence[str] | None = None, columns: int = 10,
               colorscale: str = INK, zmid: float | None = None, title: str = "",
               value_label: str = "value", tile_height: int = 70) -> go.Figure:
    """Many small images as one heatmap (fast even for a hundred tiles), titled above each tile."""
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    gap = max(2, height // 3) if titles else 2  # room for each title above its tile
    tiled = mosaic(images, columns, gap=gap)
    columns = min(columns, count)
    rows = -(-count // columns)
    heatmap = go.Heatmap(z=tiled, colorscale=colorscale, showscale=zmid is not None, zmid=zmid,
                         hovertemplate=f"{value_label} %{{z:.3f}}<extra></extra>")
    figure = go.Figure(heatmap)
    for index, text in enumerate(titles or []):
        row, col = divmod(index, columns)
        figure.add_annotation(x=col * (width + gap) + (width - 1) / 2, y=row * (height + gap) - 0.5, text=str(text),
                              showarrow=False, yanchor="bottom", font=dict(size=11))
    figure.update_layout(title=title, plot_bgcolor="white")
    return _square(figure, 60 + rows * tile_height)


def sample_grid(images: np.ndarray, labels: Sequence[int], columns: int = 12) -> go.Figure:
    """MNIST digits (n, 28, 28) uint8 with their labels above them."""
    return image_grid(np.asarray(images, dtype=np.float32), titles=[str(int(label)) for label in labels],
                      columns=columns, value_label="pixel", title="")


def pixel_heatmap(image: np.ndarray, *, normalised: bool) -> go.Figure:
    """One digit as a 28x28 grid of numbers: raw 0-255 bytes, or the 0-1 floats the model reads."""
    values = np.asarray(image, dtype=np.float32)
    if values.shape != (28, 28):
        raise ValueError(f"Expected one 28x28 digit, got shape {values.shape}.")
    if normalised:
        text = np.where(values > 0, np.char.mod("%.2f", values), "0")  # "0" keeps the background readable
        title, hover = "Normalised: pixel / 255, 0.0 to 1.0", "%{z:.3f}"
        zmax = 1.0
    else:
        text, title, hover = np.char.mod("%d", values.astype(int)), "Raw: one byte per pixel, 0 to 255", "%{z:.0f}"
        zmax = 255.0
    heatmap = go.Heatmap(z=values, zmin=0.0, zmax=zmax, colorscale=INK, text=text, texttemplate="%{text}",
                         textfont=dict(size=7), hovertemplate=f"row %{{y}}, column %{{x}}: {hover}<extra></extra>")
    figure = go.Figure(heatmap)
    figure.update_layout(title=title)
    return _square(figure, 560)


def class_balance(train_counts: Sequence[int], test_counts: Sequence[int]) -> go.Figure:
    """How many training and test digits of each class."""
    figure = go.Figure([
        go.Bar(name="train", x=DIGITS, y=list(train_counts), marker_color=TRAIN_COLOUR),
        go.Bar(name="test", x=DIGITS, y=list(test_counts), marker_color=TEST_COLOUR),
    ])
    figure.update_layout(barmode="group", title="Digits per class", xaxis_title="digit", yaxis_title="count",
                         height=350, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def pixel_histogram(counts: Sequence[int], *, log_scale: bool = True) -> go.Figure:
    """How often each intensity 0..255 occurs (`counts` has 256 entries)."""
    counts = np.asarray(counts)
    if counts.shape != (256,):
        raise ValueError(f"Expected 256 counts (one per intensity), got shape {counts.shape}.")
    figure = go.Figure(go.Bar(x=np.arange(256), y=counts, marker_color=TRAIN_COLOUR,
                              hovertemplate="intensity %{x}: %{y:,} pixels<extra></extra>"))
    figure.update_layout(title="Pixel intensities (most pixels are black background)", xaxis_title="intensity",
                         yaxis_title="pixels", yaxis_type="log" if log_scale else "linear", bargap=0,
                         yaxis_dtick=1 if log_scale else None,  # one tick per power of ten
                         height=350, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def training_curves(history: Sequence[dict]) -> go.Figure:
    """Loss and accuracy per epoch for training and (when there is one) validation."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    epochs = [event["epoch"] for event in history]
    for column, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, label, colour in (("", "training", TRAIN_COLOUR), ("val_", "validation", VALIDATION_COLOUR)):
            values = [event.get(prefix + metric) for event in history]
            if not any(value is not None for value in values):
                continue
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=label,
                                        legendgroup=label, showlegend=column == 1,
                                        line=dict(color=colour)), row=1, col=column)
    figure.update_xaxes(title_text="epoch", dtick=1)
    figure.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def confusion_matrix(matrix: np.ndarray, *, normalised: bool) -> go.Figure:
    """Rows are the true digit, columns the prediction; counts, or each row as shares of 1."""
    matrix = np.asarray(matrix)
    if matrix.shape != (10, 10):
        raise ValueError(f"Expected a 10x10 confusion matrix, got shape {matrix.shape}.")
    if normalised:
        text, number_format = np.char.mod("%.3f", matrix), ".4f"
    else:
        text, number_format = np.char.mod("%d", matrix), ","
    # A log-like colour for counts, else the diagonal (about 1,000) hides every mistake (1-10).
    colour = np.log10(matrix * (1000 if normalised else 1) + 1)
    heatmap = go.Heatmap(z=colour, x=DIGITS, y=DIGITS, text=text, texttemplate="%{text}", colorscale="Blues",
                         showscale=False, customdata=matrix,
                         hovertemplate=f"true %{{y}}, predicted %{{x}}: %{{customdata:{number_format}}}<extra></extra>")
    figure = go.Figure(heatmap)
    figure.update_layout(title="Row-normalised (recall per class)" if normalised else "Counts",
                         xaxis_title="predicted", yaxis_title="true", height=480, margin=dict(l=10, r=10, t=40, b=10))
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category", side="bottom")
    return figure


def per_class_metrics(rows: Sequence[dict]) -> go.Figure:
    """Precision, recall and F1 per digit, zoomed to where they differ."""
    figure = go.Figure([
        go.Bar(name=metric, x=[str(row["digit"]) for row in rows], y=[row[metric] for row in rows])
        for metric in ("precision", "recall", "f1")
    ])
    lowest = min([row[metric] for row in rows for metric in ("precision", "recall", "f1")] or [0.0])
    figure.update_layout(barmode="group", title="Per-class metrics", xaxis_title="digit", height=350,
                         yaxis_range=[max(0.0, lowest - 0.02), 1.0], margin=dict(l=10, r=10, t=40, b=10))
    return figure


def model_comparison(rows: Sequence[dict]) -> go.Figure:
    """Test error against parameter count, one point per model (log x: sizes differ 20-fold)."""
    figure = go.Figure(go.Scatter(
        x=[row["parameters"] for row in rows], y=[100 * (1 - row["accuracy"]) for row in rows],
        text=[row["model"] for row in rows], mode="markers+text", textposition="top center",
        hovertemplate="%{text}: %{x:,} parameters, %{y:.2f} % error<extra></extra>",
    ))
    figure.update_layout(title="Test error against size", xaxis_title="parameters (log)", xaxis_type="log",
                         yaxis_title="test error (%)", height=380, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def probability_bars(probabilities: Sequence[float], digit: int | None = None) -> go.Figure:
    """The ten class probabilities, the predicted digit highlighted."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape != (10,):
        raise ValueError(f"Expected 10 probabilities, got shape {probabilities.shape}.")
    digit = int(np.argmax(probabilities)) if digit is None else digit
    colours = [TEST_COLOUR if index == digit else "#9aa5b1" for index in range(10)]
    figure = go.Figure(go.Bar(x=DIGITS, y=probabilities, marker_color=colours, text=np.char.mod("%.1f%%", 100 * probabilities),
                              textposition="outside", hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    figure.update_layout(title="Probability of each digit", xaxis_title="digit", yaxis_range=[0, 1.12],
                         xaxis_type="category", height=320, margin=dict(l=10, r=10, t=40, b=10))
    return figure


def saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> go.Figure:
    """The saliency map as a heatmap, the 28x28 input's ink tinted blue over it."""
    image, saliency = np.asarray(image, dtype=np.float32), np.asarray(saliency, dtype=np.float32)
    if image.shape != (28, 28) or saliency.shape != (28, 28):
        raise ValueError(f"Expected two 28x28 maps, got {image.shape} and {saliency.shape}.")
    figure = go.Figure([
        go.Heatmap(z=saliency, colorscale=HEAT, zmin=0, zmax=1, showscale=True,
                   colorbar=dict(title="importance"),
                   hovertemplate="row %{y}, column %{x}: importance %{z:.2f}<extra></extra>"),
        go.Heatmap(z=image, colorscale=[[0.0, "rgba(127,219,255,0)"], [1.0, "rgba(127,219,255,0.45)"]],
                   zmin=0, zmax=1, showscale=False, hoverinfo="skip", name="ink"),
    ])
    figure.update_layout(title="Which pixels mattered (blue tint: the ink)")
    return _square(figure, 380)
