"""Digit Recognition Studio: page config and the router over pages/; nothing else."""

import streamlit as st

st.set_page_config(page_title="Digit Recognition Studio", page_icon="✍️", layout="wide")

pages = [
    st.Page("pages/explore.py", title="Explore the data", icon="🔍", default=True),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/evaluate.py", title="Evaluate", icon="📊"),
    st.Page("pages/try_it.py", title="Try it", icon="✏️"),
    st.Page("pages/inside.py", title="Inside the CNN", icon="🧠"),
]
st.navigation(pages).run()
