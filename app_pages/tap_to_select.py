"""One tap picks a tile or a cell on a touch screen: a small script for the charts that select on click
(Inside's filter and feature-map grids, Evaluate's confusion matrix); tap_to_select.js says why."""

from pathlib import Path

import streamlit as st

_SCRIPT = (Path(__file__).parent / "tap_to_select.js").read_text(encoding="utf-8")


def enable() -> None:
    """Make one tap select on this tab's clickable charts (the script installs itself once per tab)."""
    st.html(f"<script>{_SCRIPT}</script>", unsafe_allow_javascript=True)
