"""Evaluate: test accuracy, confusion matrix, the mistakes behind each cell, per-class metrics,
robustness probes, and a comparison of every saved model."""

import functools

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common, model_download, tap_to_select
from digitcore import evaluation, plots, registry

MAX_MISTAKES_SHOWN = 40  # images in the gallery; the table lists every mistake of the cell
GALLERY_COLUMNS = 8  # narrow enough for a two-line title per tile on a phone
GALLERY_TILE = 40  # pixels: eight tiles fit a phone's 340-pixel chart, so it looks the same there
CELL_KEY = "eval_cell"  # the select box: the keyboard way to pick a cell
CELLS_BY_MODEL = "eval_cell_by_model"  # {model version: (true, predicted)}, so a switch never shows stale counts


def comparison_rows(entries: list[registry.ModelEntry]) -> list[dict]:
    """One row per usable model, from its card (no evaluation needed), most accurate first. Values are
    numbers, or None where a model has none (an ensemble was never trained: no epochs, no time)."""
    rows = []
    for entry in entries:
        card = entry.card
        if entry.problem or card is None or card.test_accuracy is None:
            continue
        rows.append(
            {
                "model": entry.name,
                "default": card.default,
                "architecture": card.title or card.architecture or "?",
                "parameters": card.parameters or 0,
                "size (MB)": (card.file_bytes or 0) / 1e6,
                "accuracy": card.test_accuracy,
                "error rate (%)": 100 * (1 - card.test_accuracy),
                "published accuracy": card.published_accuracy,
                "epochs": card.training.epochs_completed,
                "training time (s)": card.training.seconds,
            }
        )
    return sorted(rows, key=lambda row: -row["accuracy"])


# How the comparison table writes each column: text, so every row of a column has the same decimals
# and a missing value is a dash (a number column shows "None" for it and drops trailing zeros).
COMPARISON_TEXT = {
    "parameters": lambda count: f"{count:,}",  # separators in every browser locale
    "size (MB)": lambda megabytes: f"{megabytes:.2f}",
    "accuracy": lambda share: f"{share:.4f}",
    "error rate (%)": lambda percent: f"{percent:.2f}",
    "published accuracy": lambda share: f"{100 * share:.2f} %",
    "epochs": lambda epochs: f"{epochs:,}",
    "training time (s)": lambda seconds: f"{seconds:,.0f}",
}
MISSING = "—"


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as the page shows them (COMPARISON_TEXT's formats, a dash for a missing value)."""
    return pd.DataFrame(
        [
            {
                column: value
                if column not in COMPARISON_TEXT
                else MISSING
                if value is None
                else COMPARISON_TEXT[column](value)
                for column, value in row.items()
            }
            for row in rows
        ]
    )


def _model_version(entry: registry.ModelEntry) -> str:
    return f"{entry.name}@{entry.path.stat().st_mtime_ns}"


def _remember_cell(version: str) -> None:
    st.session_state.setdefault(CELLS_BY_MODEL, {})[version] = st.session_state[CELL_KEY]


def _cell_clicked(version: str, cells: list[tuple[int, int]]) -> None:
    """A click on the matrix: the clicked cell becomes the select box's choice (when it holds mistakes)."""
    event = st.session_state.get("confusion")
    cell = plots.picked_cell(event.selection.points if event is not None else [])
    if cell in cells:
        st.session_state[CELL_KEY] = cell
        _remember_cell(version)


def _choose_cell(version: str, cells: list[tuple[int, int]]) -> None:
    """Before the select box is drawn: the cell this visitor last picked for this model version, or the
    most frequent confusion. Keyed by model, so a model switch never keeps another model's cell."""
    remembered = st.session_state.setdefault(CELLS_BY_MODEL, {}).get(version)
    if st.session_state.get("eval_cell_model") != version or st.session_state.get(CELL_KEY) not in cells:
        st.session_state[CELL_KEY] = remembered if remembered in cells else cells[0]
        st.session_state["eval_cell_model"] = version


def confusion_section(
    entry: registry.ModelEntry, y_true: np.ndarray, probabilities: np.ndarray, matrix: np.ndarray
) -> None:
    st.subheader("Confusion matrix")
    version = _model_version(entry)
    cells = [(int(true), int(predicted)) for true, predicted in zip(*np.nonzero(matrix)) if true != predicted]
    cells.sort(key=lambda cell: -matrix[cell])
    view = st.radio("Show", ["counts", "row-normalised"], horizontal=True, key="eval_view")
    normalised = view == "row-normalised"
    shown = evaluation.normalise_rows(matrix) if normalised else matrix
    if cells:
        _choose_cell(version, cells)
    selected = st.session_state.get(CELL_KEY) if cells else None
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(
        plots.confusion_matrix(shown, normalised=normalised, selected=selected, clickable=bool(cells)),
        key="confusion",
        on_select=functools.partial(_cell_clicked, version, cells) if cells else "ignore",
        selection_mode="points",
    )
    with right:
        if not cells:
            st.success("No test digit is misclassified.")
            return
        st.caption("Click or tap a cell of the matrix, or pick one here, to see its mistakes.")
        true_digit, predicted_digit = st.selectbox(
            "Pick a cell to see its mistakes",
            cells,
            key=CELL_KEY,
            on_change=_remember_cell,
            args=(version,),
            format_func=lambda cell: f"true {cell[0]} → predicted {cell[1]} · {matrix[cell]:,} digit(s)",
        )
        found = evaluation.mistakes(y_true, probabilities, true_digit, predicted_digit)
        st.caption(
            f"{len(found):,} test digit(s) labelled {true_digit} that the model reads as {predicted_digit}, "
            "most confident first."
        )
        table = pd.DataFrame(
            [
                {
                    "test index": row["index"],
                    f"p({predicted_digit})": row["confidence"],
                    f"p({true_digit})": float(probabilities[row["index"], true_digit]),
                }
                for row in found
            ]
        )
        # three significant digits: a small p(true) shows as 0.0000123, never as a bare 0
        st.dataframe(
            table,
            hide_index=True,
            key="eval_mistakes",
            width="stretch",
            column_config={
                column: st.column_config.NumberColumn(column, format="%.3g") for column in table.columns[1:]
            },
        )
    shown_mistakes = found[:MAX_MISTAKES_SHOWN]
    if len(found) > len(shown_mistakes):
        st.caption(
            f"The {len(shown_mistakes)} most confident of these {len(found):,} mistakes; the table lists them all."
        )
    images = common.mnist().x_test[[row["index"] for row in shown_mistakes]]
    st.plotly_chart(
        plots.image_grid(
            images,
            titles=[f"#{row['index']}<br>{100 * row['confidence']:.0f} %" for row in shown_mistakes],
            columns=GALLERY_COLUMNS,
            tile_height=GALLERY_TILE,
        ),
        key="mistake_images",
        width="content",  # as wide as its tiles: one mistake is one small picture, not a wide strip
        config=plots.PICTURE_CHART,
    )


def per_class_section(summary: dict) -> None:
    st.subheader("Per-class precision, recall and F1")
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(plots.per_class_metrics(summary["per_class"]), key="per_class_chart")
    right.dataframe(
        pd.DataFrame(summary["per_class"]),
        hide_index=True,
        key="per_class_table",
        column_config={
            name: st.column_config.NumberColumn(name, format="%.4f") for name in ("precision", "recall", "f1")
        },
    )


def probes_section(entry: registry.ModelEntry) -> None:
    st.subheader("Robustness probes")
    st.caption(
        f"The first {common.PROBE_LIMIT:,} MNIST test digits changed the way people's digits differ "
        "(only the sevens or sixes for the barred-seven and flat-top probes), and this model's accuracy on each."
    )
    rows = common.probe_results(str(entry.path), entry.path.stat().st_mtime_ns)
    table = pd.DataFrame(
        [
            {"probe": row["title"], "accuracy": f"{100 * row['accuracy']:.1f} %", "n": f"{int(row['n']):,}"}
            for row in rows
        ]
    )
    left, right = st.columns([1, 1], gap="large")
    left.dataframe(
        table,
        hide_index=True,
        key="probe_table",
        width="stretch",
        column_config={
            "probe": st.column_config.TextColumn("probe", width="medium"),
            "accuracy": st.column_config.TextColumn("accuracy", width="small"),
            "n": st.column_config.TextColumn("n", width="small"),
        },
    )
    with right:
        titles = {row["probe"]: row["title"] for row in rows if row["probe"] != "original"}
        chosen = st.selectbox("Examples of", list(titles), format_func=titles.get, key="probe_examples")
        st.plotly_chart(
            plots.image_grid(common.probe_examples(chosen), columns=8, tile_height=GALLERY_TILE),
            key="probe_images",
            width="content",
            config=plots.PICTURE_CHART,
        )


def comparison_section() -> None:
    st.subheader("Every saved model")
    rows = comparison_rows(common.model_entries())
    if not rows:
        st.info("No saved model has a test accuracy in its card yet.")
        return
    text = st.column_config.TextColumn
    st.dataframe(
        comparison_table(rows),
        hide_index=True,
        key="comparison",
        width="stretch",
        # short headers, so every column fits the page
        column_config={
            "model": text("model", pinned=True),
            "default": st.column_config.CheckboxColumn("default", width="small"),
            "parameters": text("parameters", width="small"),
            "accuracy": text("accuracy", width="small"),
            "error rate (%)": text("error %", width="small"),
            "published accuracy": text("published", width="small"),
            "size (MB)": text("MB", width="small"),
            "epochs": text("epochs", width="small"),
            "training time (s)": text("time (s)", width="small"),
        },
    )
    st.plotly_chart(plots.model_comparison(rows), key="comparison_chart")
    st.caption(
        "Accuracy is measured on the 10,000 MNIST test digits when a model is saved; published "
        "accuracies are what the reference projects reported for their own runs."
    )


def download_section(entry: registry.ModelEntry) -> None:
    st.subheader("Take this model with you")
    st.caption(
        f"**{entry.name}** as its Keras file, or converted for use outside Python: TensorFlow Lite for "
        "phones and small devices, ONNX for ONNX Runtime in many languages. Each zip holds the model, its "
        "card and a short script that reads a 28×28 digit."
    )
    model_download.download_buttons(entry.path, key="eval_download")


def render() -> None:
    st.title("Evaluate")
    entry = common.model_picker()
    if entry is None:
        st.info("There is no trained model to evaluate yet. Train one on the Train page.")
        comparison_section()
        return
    y_true = common.mnist().y_test
    probabilities = common.test_probabilities(str(entry.path), entry.path.stat().st_mtime_ns)
    summary = evaluation.summary(y_true, probabilities)
    matrix = np.asarray(summary["confusion_matrix"])
    first, second, third = st.columns(3)
    first.metric("Test accuracy", f"{100 * summary['accuracy']:.2f} %")
    second.metric("Misclassified", f"{int(summary['n'] - np.trace(matrix)):,} of {summary['n']:,}")
    third.metric("Parameters", f"{(entry.card.parameters if entry.card else None) or 0:,}")
    confusion_section(entry, y_true, probabilities, matrix)
    per_class_section(summary)
    probes_section(entry)
    download_section(entry)
    comparison_section()
    tap_to_select.enable()  # a cell of the matrix is picked with one tap on a phone


common.run_page(render, "evaluating the model")
