"""Explore in AppTest: Reshuffle past the highest seed says what it did; charts label every digit; the
class, count and seed pick the sample; the chosen digit's pixels; the histogram's axis toggle."""

import base64
import json

import numpy as np


def test_reshuffle_at_the_highest_seed_starts_again_and_says_so(open_page):
    app = open_page("explore")
    seed = app.number_input(key="explore_seed")
    highest = int(seed.max)
    seed.set_value(highest).run()
    app.button(key="explore_reshuffle").click().run()
    assert not app.exception
    assert app.number_input(key="explore_seed").value == 0
    assert any(f"Seed {highest:,} is the highest" in info.value for info in app.info)
    app.button(key="explore_reshuffle").click().run()  # an ordinary reshuffle says nothing
    assert app.number_input(key="explore_seed").value == 1
    assert not any("is the highest" in info.value for info in app.info)


def test_charts_label_all_ten_digits_and_normalised_pixels_stay_short(open_page):
    app = open_page("explore")
    figures = {
        chart.proto.spec and json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", ""): json.loads(
            chart.proto.spec
        )
        for chart in app.get("plotly_chart")
    }
    balance = figures["Digits per class"]
    assert balance["layout"]["xaxis"]["type"] == "category"
    assert balance["layout"]["xaxis"]["tickvals"] == [str(digit) for digit in range(10)]
    normalised = next(figure for title, figure in figures.items() if title.startswith("Normalised"))
    text = np.asarray(normalised["data"][0]["text"])
    assert max(len(value) for value in text.ravel()) <= 3  # ".07", never "0.07" running into its neighbour


def _figure(app, key: str) -> dict:
    """The Plotly figure of the chart drawn with this key."""
    (chart,) = [chart for chart in app.get("plotly_chart") if chart.proto.id.endswith(f"-{key}")]
    return json.loads(chart.proto.spec)


def _array(values) -> np.ndarray:
    """A Plotly array: a nested list, or the typed array newer Plotly writes for numpy data."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return flat.reshape([int(size) for size in str(values.get("shape", len(flat))).split(",")])
    return np.asarray(values, dtype=float)


def _sample_titles(app) -> list[str]:
    return [annotation["text"] for annotation in _figure(app, "sample_grid")["layout"]["annotations"]]


def test_the_sample_shows_the_chosen_class_and_count_and_follows_the_seed(open_page):
    app = open_page("explore")
    app.selectbox(key="explore_class").set_value("3").run()
    app.slider(key="explore_count").set_value(24).run()
    assert not app.exception
    assert _sample_titles(app) == ["3"] * 24  # 24 tiles, each a training digit labelled 3
    app.selectbox(key="explore_class").set_value("all digits").run()
    first = _array(_figure(app, "sample_grid")["data"][0]["z"])
    assert len(set(_sample_titles(app))) > 1  # several classes
    app.number_input(key="explore_seed").set_value(5).run()
    other = _array(_figure(app, "sample_grid")["data"][0]["z"])
    assert not np.array_equal(first, other, equal_nan=True)  # another seed, other digits
    app.number_input(key="explore_seed").set_value(0).run()
    assert np.array_equal(_array(_figure(app, "sample_grid")["data"][0]["z"]), first, equal_nan=True)  # and back


def test_the_chosen_training_digit_is_shown_pixel_by_pixel(open_page, mnist):
    app = open_page("explore")
    app.number_input(key="explore_index").set_value(7).run()
    assert not app.exception
    assert f"Digit 7 is labelled **{mnist.y_train[7]}**." in [caption.value for caption in app.caption]
    np.testing.assert_array_equal(_array(_figure(app, "raw_pixels")["data"][0]["z"]), mnist.x_train[7])
    np.testing.assert_allclose(
        _array(_figure(app, "normalised_pixels")["data"][0]["z"]), mnist.x_train[7] / 255.0, atol=1e-6
    )


def test_the_histogram_axis_switches_between_logarithmic_and_linear(open_page):
    app = open_page("explore")
    assert _figure(app, "histogram")["layout"]["yaxis"]["type"] == "log"
    app.toggle(key="explore_log").set_value(False).run()
    assert not app.exception
    assert _figure(app, "histogram")["layout"]["yaxis"]["type"] == "linear"
