"""Inside the CNN in AppTest: the channel slider reaches every channel of the widest layer."""

import re


def test_the_channel_slider_reaches_the_last_channel(open_page):
    app = open_page("inside")
    slider = app.slider(key="inside_channels")
    slider.set_value(slider.max).run()
    assert not app.exception
    captions = [caption.value for caption in app.caption]
    widths = [int(match.group(1)) for caption in captions
              for match in [re.fullmatch(r"All (\d+) channels shown \(0–\d+\)", caption)] if match]
    assert widths and max(widths) == slider.max  # the widest layer is shown to its last channel
    layers = next(frame.value for frame in app.dataframe if "parameters" in frame.value.columns)
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", count) for count in layers["parameters"])
