"""Try it's choices in its URL, so a reload or a bookmark keeps them: the model, the input (Draw or
Upload) and the reading (One digit or A number).

The URL's choices are taken once per visit (a reload, a bookmark), then the visitor's own win and are
written back. The sidebar's link to Try it carries them already (app_pages/navigation.py), so arriving
on the page writes nothing: Streamlit pushes a browser-history entry for each change of the query
string, and one made on arrival would take the browser's Back.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common

PATH = "try_it"  # the page's URL path (app_pages/try_it.py)
DRAW, UPLOAD = "Draw", "Upload a photo"
DIGIT, NUMBER = "One digit", "A number"
SOURCES, READINGS = [DRAW, UPLOAD], [DIGIT, NUMBER]
IN_URL = {DRAW: "draw", UPLOAD: "upload", DIGIT: "digit", NUMBER: "number"}  # each choice's word in the URL
# Kept outside widget state, which Streamlit drops when the visitor leaves the page.
KEPT_SOURCE, KEPT_READING = "try_kept_source", "try_kept_reading"
URL_READ = "try_url_read"  # the URL's choices are taken once per visit, then the visitor's own win


def kept_source() -> str:
    return st.session_state.get(KEPT_SOURCE, DRAW)


def kept_reading() -> str:
    return st.session_state.get(KEPT_READING, DIGIT)


def _choice_from_url(name: str, choices: list[str]) -> str | None:
    word = st.query_params.get(name)
    return next((choice for choice in choices if IN_URL[choice] == word), None)


def take() -> None:
    """On a visit's first run of Try it: the model, input and reading named in the URL (a reload)."""
    if st.session_state.get(URL_READ):
        return
    st.session_state[URL_READ] = True
    model = st.query_params.get("model")
    if model in {entry.name for entry in common.model_entries() if entry.problem is None}:
        st.session_state[common.MODEL_KEY] = model
        st.session_state["model_picker"] = model  # the sidebar picker's widget, if another page drew it already
    for kept, name, choices in ((KEPT_SOURCE, "input", SOURCES), (KEPT_READING, "read", READINGS)):
        chosen = _choice_from_url(name, choices)
        if chosen is not None:
            st.session_state[kept] = chosen


def _wanted(model: str | None, source: str, reading: str) -> dict[str, str | None]:
    return {"model": model, "input": IN_URL[source], "read": IN_URL[reading]}


def put(model: str | None, source: str, reading: str) -> None:
    """Write the page's choices into the URL (only what differs: each write is a history entry)."""
    for name, value in _wanted(model, source, reading).items():
        if value is None:
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != value:
            st.query_params[name] = value


def link_query() -> dict[str, str]:
    """The choices the page will show on arrival, for the link to it: the visitor's kept ones and the
    model the sidebar's picker shows."""
    wanted = _wanted(common.chosen_model_name(), kept_source(), kept_reading())
    return {name: value for name, value in wanted.items() if value is not None}
