"""Explore the data page (not built yet)."""

import streamlit as st

st.title("Explore the data")
st.info("Coming soon: this page will hold a sample grid of MNIST digits, raw and normalised pixel views, class balance and the mean digit of each class.")
