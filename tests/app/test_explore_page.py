"""Explore in AppTest: Reshuffle past the highest seed says what it did; charts label every digit."""

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
    import json

    app = open_page("explore")
    figures = {chart.proto.spec and json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", ""):
               json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}
    balance = figures["Digits per class"]
    assert balance["layout"]["xaxis"]["type"] == "category"
    assert balance["layout"]["xaxis"]["tickvals"] == [str(digit) for digit in range(10)]
    normalised = next(figure for title, figure in figures.items() if title.startswith("Normalised"))
    text = np.asarray(normalised["data"][0]["text"])
    assert max(len(value) for value in text.ravel()) <= 3  # ".07", never "0.07" running into its neighbour
