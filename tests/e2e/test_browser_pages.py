"""Evaluate, My digits and Inside the CNN in a real Chromium, as a new visitor uses them: the picked
confusion cell follows the model, a click on the matrix opens that cell, My digits opens with saved
digits (the page tour's sixth page), importing a zip twice adds nothing twice, the channel slider
reaches the last channel, and on a phone no chart title is covered."""

import re

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from digitcore import samples
from e2e_paths import ARTEFACTS, E2E_WORKSPACE
from test_browser import assert_no_error, open_app_page, settle, wait_for_charts

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
CELL_TEXT = re.compile(r"^true (\d) → predicted (\d) · ([\d,]+) digit\(s\)$")
CAPTION = re.compile(r"^([\d,]+) test digit\(s\) labelled (\d) that the model reads as (\d)")


def _cell_box(page: Page):
    return page.get_by_test_id("stSelectbox").filter(has_text="Pick a cell to see its mistakes")


def _shown_cell(page: Page) -> tuple[int, int, int]:
    """(true, predicted, count) as the select box shows them."""
    text = page.get_by_role("combobox", name="Pick a cell to see its mistakes").input_value()
    match = CELL_TEXT.search(text)
    assert match, f"The cell box shows {text!r}"
    true_digit, predicted_digit, count = match.groups()
    return int(true_digit), int(predicted_digit), int(count.replace(",", ""))


def _caption(page: Page) -> tuple[int, int, int]:
    """(true, predicted, count) as the caption over the mistakes table says them."""
    text = page.get_by_text(CAPTION).inner_text()
    count, true_digit, predicted_digit = CAPTION.search(text).groups()
    return int(true_digit), int(predicted_digit), int(count.replace(",", ""))


def _choose_model(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}\b")).click()
    settle(page)


def _cell_options(page: Page) -> list[str]:
    """The select box's choices, read by opening it as a visitor would."""
    _cell_box(page).click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    texts = [text.strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def test_the_picked_cell_count_follows_a_model_switch(page: Page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "evaluate")
    options = _cell_options(page)
    assert len(options) > 2
    _cell_box(page).click()
    page.get_by_role("option", name=options[2], exact=True).click()  # a visitor picks a rarer confusion
    true_digit, predicted_digit, _ = CELL_TEXT.search(options[2]).groups()
    expect(
        page.get_by_text(re.compile(rf"labelled {true_digit} that the model reads as {predicted_digit}"))
    ).to_be_visible()
    settle(page)
    assert _shown_cell(page) == _caption(page)
    _choose_model(page, "small_dense")
    accuracy = re.search(r"· ([\d.]+ %)", page.get_by_test_id("stSidebar").get_by_role("combobox").input_value()).group(
        1
    )
    expect(
        page.get_by_test_id("stMetric").filter(has_text="Test accuracy").get_by_test_id("stMetricValue")
    ).to_have_text(accuracy)  # the page now shows small_dense
    settle(page)
    assert_no_error(page)
    assert _shown_cell(page) == _caption(page)  # the box's count is the new model's, as the caption's


def _cell_centre(page: Page, true_digit: int, predicted_digit: int) -> tuple[float, float]:
    """Where cell (true, predicted) of the confusion matrix is on the screen, from Plotly's own axes."""
    chart = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".xtitle", has_text="predicted")).first
    return chart.locator(".js-plotly-plot").evaluate(
        """(plot, cell) => {
            const layout = plot._fullLayout, box = plot.getBoundingClientRect();
            return [box.left + layout.xaxis._offset + layout.xaxis.d2p(String(cell[1])),
                    box.top + layout.yaxis._offset + layout.yaxis.d2p(String(cell[0]))];
        }""",
        [true_digit, predicted_digit],
    )


def test_clicking_a_matrix_cell_opens_its_mistakes(page: Page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "evaluate")
    wait_for_charts(page)
    first = _shown_cell(page)  # the most frequent confusion, picked for the visitor
    true_digit, predicted_digit, count = CELL_TEXT.search(_cell_options(page)[1]).groups()
    wanted = (int(true_digit), int(predicted_digit), int(count.replace(",", "")))
    assert wanted[:2] != first[:2]
    x, y = _cell_centre(page, *wanted[:2])
    page.mouse.click(x, y)
    expect(page.get_by_text(re.compile(rf"labelled {wanted[0]} that the model reads as {wanted[1]}"))).to_be_visible()
    settle(page)
    assert_no_error(page)
    assert _shown_cell(page) == wanted == _caption(page)  # the select box followed the click
    mistakes = page.get_by_test_id("stDataFrame").filter(has_text="test index")
    expect(mistakes).to_be_visible()
    gallery = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".annotation-text", has_text="#"))
    expect(gallery.locator(".annotation-text").first).to_be_visible()
    assert gallery.locator(".annotation").count() == min(wanted[2], 40)  # that cell's digits, one title each
    page.screenshot(path=ARTEFACTS / "evaluate-clicked-cell.png", full_page=True)


def test_importing_the_same_zip_twice_adds_it_once(page: Page, app_url, samples_db, tmp_path):
    pooled = samples.SampleStore(tmp_path / "classmate.sqlite3")  # a classmate's export
    for value in range(3):
        image = np.zeros((28, 28), np.uint8)
        image[4:24, 10 + 3 * value : 13 + 3 * value] = 255  # three different strokes
        pooled.add(image, value + 1)
    archive = tmp_path / "my_digits.zip"
    archive.write_bytes(pooled.export_zip())
    store = samples.SampleStore(samples_db)
    before = store.count()

    page.set_viewport_size({"width": 1400, "height": 1800})
    page.goto(f"{app_url}/my_digits?ws={E2E_WORKSPACE}")
    expect(page.get_by_role("heading", name="My digits", exact=True)).to_be_visible()
    settle(page)
    for attempt in range(2):
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(archive)
        import_button = page.get_by_role("button", name=re.compile("Import$"))
        expect(import_button).to_be_enabled()
        import_button.click()
        if attempt == 0:
            expect(page.get_by_text("Imported 3 example(s).")).to_be_visible()
        else:
            expect(
                page.get_by_text(re.compile(r"Nothing new: all 3 example\(s\) in this zip are already"))
            ).to_be_visible()
        settle(page)
        assert_no_error(page)
        assert store.count() == before + 3  # the second click added nothing
    expect(page.get_by_test_id("stFileUploaderFile")).to_have_count(0)  # the imported zip does not linger


@pytest.fixture
def thirty_channel_model(e2e_models, mnist):
    """larger_cnn (30 channels in its first layer, not a multiple of the old step of 4), trained briefly."""
    from digitcore import training
    from digitcore.architectures import get_preset

    preset = get_preset("larger_cnn")
    training.train_and_save(
        preset,
        recipe=preset.recipe.with_overrides(epochs=1),
        limit=600,
        name="wide30",
        models_directory=e2e_models,
        mnist=mnist,
    )
    yield "wide30"
    for suffix in (".keras", ".json"):
        (e2e_models / f"wide30{suffix}").unlink(missing_ok=True)


def test_the_channel_slider_reaches_the_last_channel(page: Page, app_url, thirty_channel_model):
    page.set_viewport_size({"width": 1400, "height": 2400})
    open_app_page(page, app_url, "inside")
    _choose_model(page, thirty_channel_model)
    expect(page.get_by_text(re.compile(r"conv2d.* 24×24 × 30 channels"))).to_be_visible()
    slider = page.get_by_test_id("stSlider").filter(has_text="Channels shown per layer").get_by_role("slider")
    slider.focus()
    slider.press("End")  # a keyboard user goes to the end; a mouse user drags there
    settle(page)
    expect(slider).to_have_value("30")
    expect(page.get_by_text("All 30 channels shown (0–29)")).to_have_count(2)  # the convolution and its pooling
    assert_no_error(page)


def test_my_digits_opens_with_saved_digits_their_scores_and_fine_tuning(page: Page, app_url, samples_db, mnist):
    """The page tour's My digits stop: a visitor with saved digits sees them, the model's score on them
    and the fine-tuning controls, with no error."""
    store = samples.SampleStore(samples_db)
    for index in range(3):  # three test digits saved as if drawn, with their true labels
        store.add(
            mnist.x_test[index],
            int(mnist.y_test[index]),
            source="canvas",
            predicted=int(mnist.y_test[index]),
            confidence=0.9,
            model="small_cnn",
        )
    count = store.count()  # other browser tests of this session may have saved some too
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_app_page(page, app_url, "my_digits")
    expect(page.get_by_text(re.compile(rf"^{count} example\(s\): "))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Delete$"))).to_have_count(min(count, 60))  # one per tile
    expect(page.get_by_role("heading", name="Evaluate on my digits")).to_be_visible()
    expect(
        page.get_by_test_id("stMetric").filter(has_text=re.compile("^Your digits")).get_by_test_id("stMetricValue")
    ).to_have_text(str(count))
    expect(
        page.get_by_test_id("stMetric").filter(has_text="Accuracy on your digits").get_by_test_id("stMetricValue")
    ).to_have_text(re.compile(r"^\d{1,3}\.\d %$"))
    expect(page.get_by_role("heading", name="Fine-tune on my digits")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Fine-tune$"))).to_be_enabled()
    settle(page)
    assert_no_error(page)
    wait_for_charts(page)
    page.screenshot(path=ARTEFACTS / "page-my_digits.png", full_page=True)


def _overlaps(first: dict, second: dict) -> bool:
    return not (
        first["right"] <= second["left"]
        or second["right"] <= first["left"]
        or first["bottom"] <= second["top"]
        or second["bottom"] <= first["top"]
    )


# For one chart: the rectangles of its toolbars and titles, and for tile titles (image grids) each
# title's rectangle with the screen line where the row of tiles above it ends.
_LAYOUT_OF_CHART = """chart => {
    const rect = element => { const r = element.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
    const toolbars = [...chart.querySelectorAll('.modebar-container .modebar')]
        .concat([...(chart.parentElement?.querySelectorAll('[data-testid=stElementToolbar]') ?? [])])
        .map(rect).filter(r => r.width > 0);
    const titles = [...chart.querySelectorAll('.gtitle')].map(rect).filter(r => r.width > 0);
    const legends = [...chart.querySelectorAll('.legend')].map(rect).filter(r => r.width > 0);
    const plot = chart.querySelector('.js-plotly-plot');
    const annotations = plot.layout.annotations ?? [];
    const tiles = [];
    const rows = [...new Set(annotations.map(a => a.y))].sort((a, b) => a - b);
    if (rows.length >= 2 && plot.data[0].type === 'heatmap') {
        const layout = plot._fullLayout, box = plot.getBoundingClientRect();
        const imageRows = plot.calcdata[0][0].z.length;  // pixel rows of the whole mosaic
        const step = rows[1] - rows[0], rowGap = rows.length * step - imageRows;
        const elements = [...chart.querySelectorAll('.annotation')];
        annotations.forEach((annotation, index) => {
            if (annotation.y === rows[0]) return;  // the first row has no row above it
            tiles.push({label: rect(elements[index]),
                        rowAboveEnds: box.top + layout.yaxis._offset + layout.yaxis.d2p(annotation.y - rowGap)});
        });
    }
    const labels = [...chart.querySelectorAll('.annotation')].map(rect);
    return {toolbars, titles, legends, tiles, labels};
}"""


@pytest.mark.parametrize("slug", ["explore", "evaluate", "inside"])
def test_on_a_phone_no_chart_title_is_covered(page: Page, app_url, slug):
    page.set_viewport_size(PHONE)
    open_app_page(page, app_url, slug)
    wait_for_charts(page)
    charts = page.get_by_test_id("stPlotlyChart").all()
    assert charts
    checked = 0
    for chart in charts:
        chart.scroll_into_view_if_needed()
        chart.hover()  # the toolbars appear on hover (a tap on a phone)
        layout = chart.evaluate(_LAYOUT_OF_CHART)
        for title in layout["titles"]:
            checked += 1
            for toolbar in layout["toolbars"]:
                assert not _overlaps(title, toolbar), f"On {slug} a toolbar covers a chart title: {title} {toolbar}"
            for legend in layout["legends"]:
                assert not _overlaps(title, legend), f"On {slug} a legend covers a chart title: {title} {legend}"
        for tile in layout["tiles"]:
            checked += 1
            assert tile["label"]["top"] >= tile["rowAboveEnds"] - 1, (
                f"On {slug} a tile title reaches into the row above"
            )
        labels = layout["labels"]
        for index, label in enumerate(labels):  # titles side by side never run together
            assert not any(_overlaps(label, other) for other in labels[index + 1 :]), f"On {slug} tile titles overlap"
    assert checked > 0  # the page has titled charts or titled tiles, and each was checked
    assert_no_error(page)
    page.screenshot(path=ARTEFACTS / f"phone-{slug}.png", full_page=True)
