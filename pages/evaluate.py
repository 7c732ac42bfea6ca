"""Evaluate page (not built yet)."""

import streamlit as st

st.title("Evaluate")
st.info("Coming soon: this page will hold the confusion matrix, per-class metrics, misclassified digits and a comparison of every model.")
