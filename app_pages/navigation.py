"""The sidebar's links to the pages, each carrying the query string its page shows (the visitor's
workspace key, and Try it's choices on the link to Try it).

Why not Streamlit's own sidebar navigation: it drops the query string on a page switch, the page then
wrote ?ws= back, and Streamlit pushes a browser-history entry for every change of the query string
(its issues 9279 and 11305). A switch made two to five entries, written under one page's path or the
other's depending on which message the browser handled first, so the browser's Back often stayed on
the page the visitor meant to leave. A link that carries its page's whole query string makes a switch
exactly one history entry, and the page finds nothing to write: Back and Forward walk the pages, and
the URL always shows the key to bookmark. The links look like the navigation they replace: the
pages' titles and icons in their order, the current page highlighted.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from app_pages import common, try_it_url

_CLOSE_SIDEBAR_SCRIPT = (Path(__file__).parent / "close_sidebar.js").read_text(encoding="utf-8")
LINK_GAP_PX = 14  # between two links: the navigation's spacing (Streamlit's "small" gap spreads them more)


def query_of(page: StreamlitPage, workspace_key: str) -> dict[str, str]:
    """The query string `page` shows when the visitor arrives on it, so the link writes it at once."""
    query = {common.WORKSPACE_PARAMETER: workspace_key}
    if page.url_path == try_it_url.PATH:
        query |= try_it_url.link_query()
    return query


def sidebar_links(pages: list[StreamlitPage]) -> None:
    """One link per page at the top of the sidebar, then a line, as Streamlit's navigation draws it."""
    with common.friendly_errors("drawing the links to the pages"):
        key = common.workspace().key
        with st.sidebar:
            with st.container(key="page_links", gap=LINK_GAP_PX):
                for page in pages:
                    st.page_link(page, query_params=query_of(page, key))
                st.divider()


def close_sidebar_after_a_link_on_phones() -> None:
    """On a phone, a tapped link closes the sidebar, as Streamlit's navigation did (close_sidebar.js
    says why). Drawn at the end of the page: the script's element has no height but still a gap."""
    st.html(f"<script>{_CLOSE_SIDEBAR_SCRIPT}</script>", unsafe_allow_javascript=True)
