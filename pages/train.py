"""Train page (not built yet)."""

import streamlit as st

st.title("Train")
st.info("Coming soon: this page will hold architecture presets, live loss and accuracy curves, progress and a stop button.")
