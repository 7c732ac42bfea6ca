"""The drawing pad of Try it: a small components-v2 canvas (drawing_pad.js) and the typed drawing it sends.

Why not streamlit-drawable-canvas: its Clear was a remount under a new widget key, and strokes drawn
while the old canvas was being replaced were lost (and old ink could stay). This pad clears and
undoes inside the browser, never remounts, and every message carries the whole drawing plus a PNG
of exactly what is on screen, so whichever message a rerun reads last is complete.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

SIDE = 280  # canvas pixels: ten per MNIST pixel; the pad is this tall, and as wide for one digit
NUMBER_WIDTH = 2 * SIDE  # a number needs room for several digits side by side
PEN_WIDTH = 20  # the pen width a visitor starts with (canvas pixels) ...
PEN_WIDTHS = (6, 40)  # ... and the range of the pad's own width slider
MAX_PNG_BYTES = 2 * 1024 * 1024  # a 280x280 PNG is a few KB; anything far larger was not sent by the pad
PNG_PREFIX = "data:image/png;base64,"

_HERE = Path(__file__).parent
_component = st.components.v2.component(
    "digit_studio.drawing_pad",
    js=(_HERE / "drawing_pad.js").read_text(encoding="utf-8"),
    css=(_HERE / "drawing_pad.css").read_text(encoding="utf-8"),
    isolate_styles=True,
)


@dataclass(frozen=True)
class Drawing:
    """What the pad holds: its strokes ([width, x0, y0, x1, y1, ...] each) and the PNG on screen."""

    sequence: int  # counts the pad's messages: a newer drawing has a larger number
    strokes: tuple[tuple[int, ...], ...]
    png: bytes | None  # None when the pad is empty

    @property
    def empty(self) -> bool:
        return not self.strokes or self.png is None

    def to_state(self) -> dict:
        """The pad's own message format, to hand the drawing back to a freshly mounted pad."""
        return {"sequence": self.sequence, "strokes": [list(stroke) for stroke in self.strokes]}


def parse(message) -> Drawing | None:
    """The pad's message as a Drawing; None for anything that is not one (the browser is untrusted)."""
    if not isinstance(message, dict):
        return None
    sequence, strokes, png = message.get("sequence"), message.get("strokes"), message.get("png")
    if not isinstance(sequence, int) or not isinstance(strokes, list):
        return None
    if not all(isinstance(stroke, list) and all(isinstance(v, (int, float)) for v in stroke) for stroke in strokes):
        return None
    image = None
    if png is not None:
        if not isinstance(png, str) or not png.startswith(PNG_PREFIX) or len(png) > MAX_PNG_BYTES * 4 // 3 + 64:
            return None
        try:
            image = base64.b64decode(png[len(PNG_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return None
    return Drawing(sequence, tuple(tuple(int(v) for v in stroke) for stroke in strokes), image)


def parse_pen(value) -> int | None:
    """The pen width the pad reported, or None for anything outside the slider's range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if PEN_WIDTHS[0] <= value <= PEN_WIDTHS[1] else None


def drawing_pad(*, key: str, kept: Drawing | None, pen: int, width: int = SIDE) -> tuple[Drawing | None, int]:
    """Show the pad; return its drawing (None before the first stroke) and the pen width it is set to.

    `kept` is the drawing this visitor left on the page earlier and `pen` the pen width they chose: a
    pad mounted afresh (after a page switch or Draw/Upload) starts with both, and the drawing is what
    is read until the visitor draws. The pad is SIDE pixels tall and `width` wide.
    """
    mounted = key in st.session_state and parse(st.session_state[key].get("drawing")) is not None
    data = {
        "width": width,
        "height": SIDE,
        "strokeWidth": pen,
        "minWidth": PEN_WIDTHS[0],
        "maxWidth": PEN_WIDTHS[1],
        "restore": None if mounted or kept is None or kept.empty else kept.to_state(),
    }
    result = _component(
        key=key,
        data=data,
        default={"drawing": None, "pen": None},
        on_drawing_change=lambda: None,
        on_pen_change=lambda: None,
        width="content",
        height="content",
    )
    drawing = parse(result.get("drawing"))
    chosen = parse_pen(result.get("pen"))
    return (kept if drawing is None else drawing), (pen if chosen is None else chosen)
