"""Inside the CNN page (not built yet)."""

import streamlit as st

st.title("Inside the CNN")
st.info("Coming soon: this page will hold the first layer's filters and the feature maps of every convolution and pooling layer.")
