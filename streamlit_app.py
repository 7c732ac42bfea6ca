"""Digit Recognition Studio: page config and the router over app_pages/ (its links in the sidebar); nothing else.

The pages live in app_pages/, not pages/: with a pages/ folder beside this file, Streamlit 1.67
runs its older folder-based navigation until some visitor's run reaches st.navigation below, so a
fresh server's first visitor arriving on a page's URL would run that page without this router.
"""

import streamlit as st

from app_pages import navigation

st.set_page_config(page_title="Digit Recognition Studio", page_icon=":material/draw:", layout="wide")

pages = [
    st.Page("app_pages/explore.py", title="Explore the data", icon=":material/search:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("app_pages/try_it.py", title="Try it", icon=":material/draw:"),
    st.Page("app_pages/my_digits.py", title="My digits", icon=":material/collections_bookmark:"),
    st.Page("app_pages/inside.py", title="Inside the CNN", icon=":material/neurology:"),
]
# Streamlit's own sidebar navigation is hidden: its page switch dropped the workspace key from the URL,
# and writing it back took the browser's Back (app_pages/navigation.py says how).
page = st.navigation(pages, position="hidden")
navigation.sidebar_links(pages)
page.run()
navigation.close_sidebar_after_a_link_on_phones()
