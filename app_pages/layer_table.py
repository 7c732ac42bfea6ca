"""A model's layers as a static table narrow enough for a 390-px phone: layer, output, parameters.

Three columns fit a phone's 324 pixels where four did not (the output and the parameters were cut). A
layer's type and its name share the first column, one line each, when the name means something."""

import re

import pandas as pd
import streamlit as st


def _plain(text: str) -> str:
    """`text` as itself in the table's Markdown cells (a layer named _x_ is not set in italics)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:])", r"\\\1", text)


def show(rows: list[dict], *, with_names: bool) -> None:
    """`rows` from digitcore.explain.layer_summary. `with_names`: each layer's name above its type (a
    saved model, whose feature maps are headed by those names); else its type alone (a preset not yet
    trained: Keras numbers its layer names by what this server built before, conv2d_13)."""
    table = pd.DataFrame(
        {
            "layer": [
                f"{_plain(row['layer'])}  \n:gray[{_plain(row['type'])}]" if with_names else _plain(row["type"])
                for row in rows
            ],
            "output": [row["output shape"] for row in rows],
            "parameters": [f"{row['parameters']:,}" for row in rows],  # separators in every locale
        }
    ).set_index("layer")
    st.table(table)  # static: every column shown, no grid toolbar, at most about 320 pixels wide
