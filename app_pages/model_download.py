"""Take a model with you: one download button per export format (the .keras file, TFLite, ONNX), each a
zip with the model card and read_digit.py, and that script shown. Evaluate shows it for the picked
model, Train after a run; not registered as a page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from digitcore import export


@st.cache_data(show_spinner=False, max_entries=12)
def _exported(path: str, modified_ns: int, export_format: str) -> bytes:
    """The zip of one model file version in one format (converting takes seconds; once per version)."""
    return export.export(path, export_format).data


def _deferred(path: str, modified_ns: int, export_format: export.ExportFormat):
    # Streamlit calls it only when the button is clicked, so a page never converts what nobody takes.
    return lambda: _exported(path, modified_ns, export_format.value)


def download_buttons(path: Path, *, key: str = "download") -> None:
    """Download buttons for the saved model file `path` (a shipped model, or one of the visitor's in their
    workspace), and how to use a download."""
    if not path.is_file():
        return
    model_name = path.stem
    modified_ns = path.stat().st_mtime_ns
    onnx_ready = export.onnx_available()
    columns = st.columns(len(export.ExportFormat))
    for column, export_format in zip(columns, export.ExportFormat, strict=True):
        usable = export_format != export.ExportFormat.ONNX or onnx_ready
        column.download_button(
            export_format.display_name,
            data=_deferred(str(path), modified_ns, export_format),
            file_name=f"{model_name}-{export_format.value}.zip",
            mime="application/zip",
            icon=":material/download:",
            on_click="ignore",
            key=f"{key}_{export_format.value}",
            disabled=not usable,
            width="stretch",
            help=f"A zip of {model_name}.{export_format.value}, its model card and {export.SNIPPET_NAME}."
            if usable
            else "The ONNX converter (tf2onnx) is not installed on this server.",
        )
    shown = st.radio(
        f"How to read a digit with a download ({export.SNIPPET_NAME} in the zip)",
        list(export.ExportFormat),
        format_func=lambda export_format: export_format.display_name,
        horizontal=True,
        key=f"{key}_snippet",
    )
    st.code(export.snippet(shown, f"{model_name}.{shown.value}"), language="python")
