"""Evaluate: test accuracy, confusion matrix, the mistakes behind each cell, per-class metrics,
robustness probes, and a comparison of every saved model."""

import numpy as np
import pandas as pd
import streamlit as st

from digitcore import evaluation, plots, registry
from app_pages import common

MAX_MISTAKES_SHOWN = 40


def comparison_rows(entries: list[registry.ModelEntry]) -> list[dict]:
    """One row per usable model, from its card (no evaluation needed), most accurate first."""
    rows = []
    for entry in entries:
        card = entry.card
        if entry.problem or card.get("test_accuracy") is None:
            continue
        training = card.get("training", {})
        published = card.get("published_accuracy")
        rows.append({
            "model": entry.name, "architecture": card.get("title") or card.get("architecture", "?"),
            "parameters": int(card.get("parameters", 0)), "size (MB)": round(card.get("file_bytes", 0) / 1e6, 2),
            "accuracy": float(card["test_accuracy"]), "error rate (%)": round(100 * (1 - card["test_accuracy"]), 2),
            "published accuracy": published, "epochs": training.get("epochs_completed"),
            "training time (s)": training.get("seconds"), "default": bool(card.get("default")),
        })
    return sorted(rows, key=lambda row: -row["accuracy"])


def confusion_section(y_true: np.ndarray, probabilities: np.ndarray, matrix: np.ndarray) -> None:
    st.subheader("Confusion matrix")
    view = st.radio("Show", ["counts", "row-normalised"], horizontal=True, key="eval_view")
    normalised = view == "row-normalised"
    shown = evaluation.normalise_rows(matrix) if normalised else matrix
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(plots.confusion_matrix(shown, normalised=normalised), key="confusion")
    with right:
        cells = [(int(true), int(predicted)) for true, predicted in zip(*np.nonzero(matrix))
                 if true != predicted]
        cells.sort(key=lambda cell: -matrix[cell])
        if not cells:
            st.success("No test digit is misclassified.")
            return
        true_digit, predicted_digit = st.selectbox(
            "Pick a cell to see its mistakes", cells, key="eval_cell",
            format_func=lambda cell: f"true {cell[0]} → predicted {cell[1]} · {matrix[cell]} digit(s)")
        found = evaluation.mistakes(y_true, probabilities, true_digit, predicted_digit)
        st.caption(f"{len(found)} test digit(s) labelled {true_digit} that the model reads as {predicted_digit}, "
                   "most confident first.")
        table = pd.DataFrame([{"test index": row["index"], f"p({predicted_digit})": row["confidence"],
                               f"p({true_digit})": float(probabilities[row["index"], true_digit])}
                              for row in found])
        st.dataframe(table, hide_index=True, key="eval_mistakes",
                     column_config={column: st.column_config.ProgressColumn(column, min_value=0.0, max_value=1.0,
                                                                            format="%.3f")
                                    for column in table.columns[1:]})
    shown_mistakes = found[:MAX_MISTAKES_SHOWN]
    images = common.mnist().x_test[[row["index"] for row in shown_mistakes]]
    st.plotly_chart(plots.image_grid(images, titles=[f"#{row['index']} · {100 * row['confidence']:.0f} %"
                                                     for row in shown_mistakes], columns=10),
                    key="mistake_images")


def per_class_section(summary: dict) -> None:
    st.subheader("Per-class precision, recall and F1")
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(plots.per_class_metrics(summary["per_class"]), key="per_class_chart")
    right.dataframe(pd.DataFrame(summary["per_class"]), hide_index=True, key="per_class_table",
                    column_config={name: st.column_config.NumberColumn(name, format="%.4f")
                                   for name in ("precision", "recall", "f1")})


def probes_section(entry: registry.ModelEntry) -> None:
    st.subheader("Robustness probes")
    st.caption(f"The first {common.PROBE_LIMIT:,} MNIST test digits changed the way people's digits differ "
               "(only the sevens for the barred-seven probe), and this model's accuracy on each.")
    rows = common.probe_results(str(entry.path), entry.path.stat().st_mtime_ns)
    left, right = st.columns([2, 3], gap="large")
    left.dataframe(pd.DataFrame(rows)[["title", "accuracy", "n"]], hide_index=True, key="probe_table",
                   column_config={"title": "probe", "accuracy": st.column_config.ProgressColumn(
                       "accuracy", min_value=0.0, max_value=1.0, format="%.3f")})
    with right:
        titles = {row["probe"]: row["title"] for row in rows if row["probe"] != "original"}
        chosen = st.selectbox("Examples of", list(titles), format_func=titles.get, key="probe_examples")
        st.plotly_chart(plots.image_grid(common.probe_examples(chosen), columns=8), key="probe_images")


def comparison_section() -> None:
    st.subheader("Every saved model")
    rows = comparison_rows(common.model_entries())
    if not rows:
        st.info("No saved model has a test accuracy in its card yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="comparison",
                 column_config={"accuracy": st.column_config.NumberColumn(format="%.4f"),
                                "published accuracy": st.column_config.NumberColumn(format="%.4f"),
                                "parameters": st.column_config.NumberColumn(format="localized")})
    st.plotly_chart(plots.model_comparison(rows), key="comparison_chart")
    st.caption("Accuracy is measured on the 10,000 MNIST test digits when a model is saved; published "
               "accuracies are what the reference projects reported for their own runs.")


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
    third.metric("Parameters", f"{int(entry.card.get('parameters', 0)):,}")
    confusion_section(y_true, probabilities, matrix)
    per_class_section(summary)
    probes_section(entry)
    comparison_section()


common.run_page(render, "evaluating the model")
