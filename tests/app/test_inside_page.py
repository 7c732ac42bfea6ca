"""Inside the CNN in AppTest: the channel slider reaches every channel of the widest layer and cuts
every layer to fewer; another test digit, or the one drawn on Try it, is read and its maps drawn."""

import base64
import json
import re

import numpy as np

from app_helpers import PAD_KEY, SEVEN, canvas_value
from digitcore import inference, registry


def test_the_channel_slider_reaches_the_last_channel(open_page):
    app = open_page("inside")
    slider = app.slider(key="inside_channels")
    slider.set_value(slider.max).run()
    assert not app.exception
    captions = [caption.value for caption in app.caption]
    widths = [
        int(match.group(1))
        for caption in captions
        for match in [re.fullmatch(r"All (\d+) channels shown \(0–\d+\)", caption)]
        if match
    ]
    assert widths and max(widths) == slider.max  # the widest layer is shown to its last channel
    layers = next(table.value for table in app.table if "parameters" in table.value.columns)
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", count) for count in layers["parameters"])


def _figure(app, key: str) -> dict:
    """The Plotly figure of the chart drawn with this key."""
    (chart,) = [chart for chart in app.get("plotly_chart") if chart.proto.id.endswith(f"-{key}")]
    return json.loads(chart.proto.spec)


def _maps(app) -> dict[str, np.ndarray]:
    """{layer chart key: its feature-map mosaic} for every layer shown."""
    figures = {}
    for chart in app.get("plotly_chart"):
        key = chart.proto.id.rsplit("-", 1)[-1]
        if key.startswith("maps_"):
            z = json.loads(chart.proto.spec)["data"][0]["z"]
            if isinstance(z, dict):  # the typed array newer Plotly writes for numpy data
                flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
                z = flat.reshape([int(size) for size in str(z["shape"]).split(",")])
            figures[key] = np.asarray(z, dtype=float)
    return figures


def _image_caption(app) -> str:
    (caption,) = [caption for image in app.image for caption in image.captions]
    return caption


def test_another_test_digit_is_read_and_its_feature_maps_drawn(open_page, models_dir, mnist):
    app = open_page("inside")
    first = _maps(app)
    app.number_input(key="inside_index").set_value(3).run()
    assert not app.exception
    model = registry.load(models_dir / "small_cnn.keras")
    reading = inference.classify(model, mnist.x_test[3].astype(np.float32) / 255.0)
    assert _image_caption(app).startswith(
        f"MNIST test digit 3, labelled {mnist.y_test[3]}; small_cnn reads {reading.digit} ("
    )
    second = _maps(app)
    assert first and set(second) == set(first)
    assert all(not np.array_equal(first[key], second[key], equal_nan=True) for key in first)  # every layer redrawn


def test_fewer_channels_per_layer_when_the_slider_says_so(open_page):
    app = open_page("inside")
    app.slider(key="inside_channels").set_value(4).run()
    assert not app.exception
    shown = [caption.value for caption in app.caption if re.fullmatch(r"Channels 0–\d+ of \d+ shown", caption.value)]
    layers = [text for text in (markdown.value for markdown in app.markdown) if re.match(r"\*\*\d+\. ", text)]
    assert shown and len(shown) == len(layers)  # every layer (all have more than 4 channels) cut to 4
    assert all(caption.startswith("Channels 0–3 of ") for caption in shown)


def test_the_digit_drawn_on_try_it_can_be_looked_inside(open_page):
    app = open_page("try_it")
    app.session_state[PAD_KEY] = canvas_value(SEVEN)
    app.run()
    predicted = next(metric.value for metric in app.metric if metric.label == "Prediction")
    app.switch_page("app_pages/inside.py").run()
    assert app.radio(key="inside_source").options == ["The digit from Try it", "An MNIST test digit"]
    app.radio(key="inside_source").set_value("The digit from Try it").run()
    assert not app.exception
    assert _image_caption(app).startswith(f"the digit drawn on Try it; small_cnn reads {predicted} (")
    app.radio(key="inside_source").set_value("An MNIST test digit").run()
    assert _image_caption(app).startswith("MNIST test digit 0, labelled 7; small_cnn reads ")


def test_a_filter_picked_from_the_grid_is_drawn_large_with_its_weights(open_page, models_dir):
    """Issue 28: on a phone, 32 filters of about 10 px could not be read. Each grid now fits a phone,
    and the tile a visitor taps (or picks in the box) is drawn large with its values written in."""
    from digitcore import explain

    app = open_page("inside")
    grid = _figure(app, "filters")
    assert grid["layout"]["width"] <= 360 and grid["layout"]["clickmode"] == "event+select"  # fits a phone
    app.selectbox(key="filters_large").set_value(5).run()
    assert not app.exception
    large = _figure(app, "filters_enlarged")
    assert large["layout"]["title"]["text"] == "filter 5"
    filters = explain.first_layer_filters(registry.load(models_dir / "small_cnn.keras"))
    shown = large["data"][0]["z"]
    if isinstance(shown, dict):  # the typed array newer Plotly writes for numpy data
        shown = np.frombuffer(base64.b64decode(shown["bdata"]), dtype=np.dtype(shown["dtype"])).reshape(
            filters.shape[1:]
        )
    np.testing.assert_allclose(shown, filters[5] / np.abs(filters).max(), rtol=1e-5)
    assert large["data"][0]["texttemplate"] == "%{text}"  # each weight written in its cell
