"""Try it page (not built yet)."""

import streamlit as st

st.title("Try it")
st.info("Coming soon: this page will hold a drawing canvas and photo upload, the preprocessing steps, the prediction and a saliency map.")
