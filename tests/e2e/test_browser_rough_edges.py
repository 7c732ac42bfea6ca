"""Issue 28's rough edges in a real Chromium, on a desktop (1400 px) and a phone (390x844, touch): what
the pages show is compared with what they should show (text, and sizes within the screen).

Explore, Evaluate and Inside fit the phone's width, their galleries have no axis ticks and no empty
bands, every chart title is whole; the sidebar picker's text is never cut; Inside's filters are large
enough to see and a tapped one is drawn large; Evaluate's size chart has readable log ticks and its
legend under the plot, one mistake is one small picture, its table writes a dash and fixed decimals,
and its TFLite download reads digits as the model does; My digits keeps a digit saved twice once and
says what an import of a zip that repeats a drawing did."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from browser_steps import downloaded_names, draw, open_app_page, settle, sidebar_link
from digitcore import inference, plots, registry, samples
from e2e_paths import ARTEFACTS
from test_browser import assert_no_error, wait_for_charts

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}
SEVEN = [[(70, 60), (140, 60), (210, 60), (165, 150), (120, 240)]]

# Every chart on the page: its box, its title's, its heatmap picture's (galleries), its axis ticks and labels.
_CHARTS = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')].map(chart => {
    const rect = element => { const r = element.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
    const plot = chart.querySelector('.js-plotly-plot');
    const layout = plot._fullLayout;
    const title = chart.querySelector('.gtitle');
    const picture = chart.querySelector('.hm image');
    return {
        box: rect(chart),
        title: title ? {text: title.textContent, ...rect(title)} : null,
        gallery: Boolean(picture) && plot.layout.yaxis?.scaleanchor === 'x',  // a picture: square pixels
        picture: picture ? rect(picture) : null,
        plotHeight: layout._size.h, plotWidth: layout._size.w,
        ticks: chart.querySelectorAll('.xtick text, .ytick text, path.xtick, path.ytick, .ticks path').length,
    };
})"""


def _new_page(browser, viewport: dict):
    expect.set_options(timeout=60_000)  # as the page fixture: a first visit imports TensorFlow
    phone = viewport["width"] < 500
    context = browser.new_context(viewport=viewport, has_touch=phone, is_mobile=phone)
    return context, context.new_page()


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def screen(request, browser):
    context, tab = _new_page(browser, request.param)
    yield tab, request.param
    context.close()


def _charts(page: Page) -> list[dict]:
    for chart in page.get_by_test_id("stPlotlyChart").all():  # drawn once scrolled to
        chart.scroll_into_view_if_needed()
    return page.evaluate(_CHARTS)


@pytest.mark.parametrize("slug", ["explore", "evaluate", "inside"])
def test_pages_fit_the_screen_with_whole_titles_and_tight_galleries(screen, app_url, slug):
    page, viewport = screen
    open_app_page(page, app_url, slug)
    wait_for_charts(page)
    charts = _charts(page)
    assert charts
    galleries = 0
    for chart in charts:
        box = chart["box"]
        assert box["left"] >= 0 and box["right"] <= viewport["width"], f"On {slug} a chart runs off the screen: {box}"
        if chart["title"] and chart["title"]["text"]:  # whole, inside its chart (Plotly cuts nothing, it overflows)
            assert chart["title"]["right"] <= box["right"] + 1, f"On {slug} the title {chart['title']} is cut"
        if chart["gallery"]:
            galleries += 1
            picture = chart["picture"]
            assert chart["ticks"] == 0, f"On {slug} a gallery has axis ticks"
            assert picture["right"] <= box["right"] + 1 and picture["left"] >= box["left"] - 1
            # the picture fills its chart one way and nearly the other: no empty band above, below or beside it
            shares = sorted((picture["height"] / chart["plotHeight"], picture["width"] / chart["plotWidth"]))
            assert shares[1] >= 0.95 and shares[0] >= 0.75, f"On {slug} a picture sits in an empty band: {chart}"
    assert galleries >= (2 if slug != "evaluate" else 1)
    if slug == "explore":
        expect(page.locator(".gtitle", has_text="Most pixels are black (0)")).to_be_visible()
    if slug == "evaluate":  # the size chart: legend under the plot, size labels apart, on a phone too
        size_chart = page.get_by_test_id("stPlotlyChart").filter(
            has=page.locator(".gtitle", has_text="Test error against size")
        )
        legend, plot = (
            size_chart.locator(".legend").bounding_box(),
            size_chart.locator(".nsewdrag").first.bounding_box(),
        )
        assert legend["y"] >= plot["y"] + plot["height"] and legend["width"] <= plot["width"] + 20
        labels = [label.bounding_box() for label in size_chart.locator(".xtick text").all()]
        assert len(labels) >= 2
        assert all(left["x"] + left["width"] < right["x"] for left, right in zip(labels, labels[1:]))
    if slug == "inside":  # 32 filters large enough to see: at least 30 px a tile, on a phone too
        filters = next(chart for chart in charts if chart["gallery"])
        assert filters["picture"]["width"] / 8 >= 30
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox")
    if viewport["width"] >= 500:  # on a phone the sidebar starts closed
        shown, width, room = picker.evaluate("box => [box.value, box.scrollWidth, box.clientWidth]")
        assert re.fullmatch(r"small_cnn · \d{2}\.\d\d %", shown) and width <= room  # the whole text fits
        expect(page.get_by_test_id("stSidebar").get_by_text("The default model.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert_no_error(page)
    page.screenshot(path=ARTEFACTS / f"rough-{slug}-{viewport['width']}.png", full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_filter_clicked_or_picked_is_drawn_large(browser, app_url, viewport):
    """A click on filter 9 (desktop), or filter 9 picked in the box with a finger (phone), draws it large."""
    context, page = _new_page(browser, viewport)
    try:
        open_app_page(page, app_url, "inside")
        wait_for_charts(page)
        if viewport is DESKTOP:
            grid = page.get_by_test_id("stPlotlyChart").first
            grid.scroll_into_view_if_needed()
            centre = grid.locator(".js-plotly-plot").evaluate(
                """plot => { const layout = plot._fullLayout, box = plot.getBoundingClientRect();
                    const tile = plot.calcdata.find(points => points[0].trace.name === 'tile picker')[9];
                    return [box.left + layout.xaxis._offset + layout.xaxis.c2p(tile.x),
                            box.top + layout.yaxis._offset + layout.yaxis.c2p(tile.y)]; }"""
            )
            page.mouse.click(*centre)
        else:
            box = page.get_by_role("combobox", name="See one large (or click a tile)").first
            box.scroll_into_view_if_needed()
            _tap_box(box)
            page.get_by_role("option", name="filter 9", exact=True).tap()
        large = page.get_by_test_id("stPlotlyChart").filter(
            has=page.locator(".gtitle", has_text=re.compile("^filter 9$"))
        )
        expect(large).to_be_visible()
        settle(page)
        assert_no_error(page)
        expect(page.get_by_role("combobox", name="See one large (or click a tile)").first).to_have_value("filter 9")
        size = large.bounding_box()
        assert size["width"] >= 300 and size["x"] + size["width"] <= viewport["width"]  # large, and on the screen
        weights = [text for text in large.locator("text").all_text_contents() if re.fullmatch(r"-?\d\.\d\d", text)]
        rows, columns = re.search(
            r"kernels of (\d+)×(\d+) weights", page.get_by_text("kernels of").inner_text()
        ).groups()
        assert len(weights) == int(rows) * int(columns)  # each weight of the kernel written in its cell
    finally:
        context.close()


# Where point `index` of a chart's clickable layer (trace `name`) sits on the chart's touch layer (Plotly's
# drag rectangle over the plot).
_POINT_ON_TOUCH_LAYER = """(plot, [name, index]) => { const layout = plot._fullLayout;
    const point = plot.calcdata.find(points => points[0].trace.name === name)[index];
    return {x: layout.xaxis.c2p(point.x), y: layout.yaxis.c2p(point.y)}; }"""


def _tap_box(box) -> None:
    """A finger's tap on a select box, a little off its centre: React Aria takes a touch at the exact centre
    pixel for a screen reader's (VoiceOver taps there) and then opens no list, and Playwright taps there."""
    box.tap(position={"x": 30, "y": 10})


def _tap_point(chart, layer: str, index: int) -> None:
    """One finger tap on point `index` of a chart's clickable layer, and nothing else (no mouse move first)."""
    chart.scroll_into_view_if_needed()
    position = chart.locator(".js-plotly-plot").evaluate(_POINT_ON_TOUCH_LAYER, [layer, index])
    chart.locator(".nsewdrag").first.tap(position=position)


def test_one_tap_on_a_filter_or_a_feature_map_draws_it_large(browser, app_url):
    """On a phone one tap on a tile draws that tile large. Plotly picks a clicked point from the hover of
    the last pointer move, and a finger makes none before its tap: the first tap did nothing, the next
    drew the tile tapped before it."""
    context, page = _new_page(browser, PHONE)
    try:
        open_app_page(page, app_url, "inside")
        wait_for_charts(page)
        boxes = page.get_by_role("combobox", name="See one large (or click a tile)")
        filters, first_maps = page.get_by_test_id("stPlotlyChart").nth(0), page.get_by_test_id("stPlotlyChart").nth(2)
        expect(boxes.first).to_have_value("filter 0")
        for grid, box, tile, shown in (
            (filters, boxes.nth(0), 9, re.compile("^filter 9$")),
            (filters, boxes.nth(0), 3, re.compile("^filter 3$")),  # the tile tapped now, not the one before
            (first_maps, boxes.nth(1), 5, re.compile(" channel 5$")),
        ):
            _tap_point(grid, plots.TILE_PICKER, tile)
            expect(box).to_have_value(shown, timeout=20_000)
            settle(page)
            expect(box).to_have_value(shown)  # kept once the run the tap started has ended
            large = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text=shown))
            expect(large).to_be_visible()
        assert_no_error(page)
    finally:
        context.close()


def test_one_tap_on_a_confusion_cell_shows_its_mistakes(browser, app_url):
    """On a phone one tap on a cell of Evaluate's confusion matrix picks that cell (the same Plotly hover
    as Inside's tiles: a first tap picked nothing)."""
    context, page = _new_page(browser, PHONE)
    try:
        open_app_page(page, app_url, "evaluate")
        wait_for_charts(page)
        matrix = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text="Counts"))
        box = page.get_by_role("combobox", name="Pick a cell to see its mistakes")
        shown = box.input_value()  # the most frequent confusion
        counts = np.asarray(
            matrix.locator(".js-plotly-plot").evaluate(
                "(plot, name) => Array.from(plot._fullData.find(trace => trace.name === name).customdata)",
                plots.CELL_PICKER,
            )
        ).reshape(10, 10)
        np.fill_diagonal(counts, 0)
        true_digit, predicted_digit = min(zip(*np.nonzero(counts)), key=lambda cell: counts[cell])  # the rarest
        assert not shown.startswith(f"true {true_digit} → predicted {predicted_digit} ")
        _tap_point(matrix, plots.CELL_PICKER, 10 * int(true_digit) + int(predicted_digit))
        picked = re.compile(rf"^true {true_digit} → predicted {predicted_digit} · ")
        expect(box).to_have_value(picked, timeout=20_000)
        settle(page)
        expect(box).to_have_value(picked)
        assert_no_error(page)
    finally:
        context.close()


# A layer table as the phone shows it: its box, the table's widths, its header and each row's cells.
_LAYER_TABLE = """table => { const grid = table.querySelector('table'), box = table.getBoundingClientRect();
    const cell = c => { const r = c.getBoundingClientRect();
        return {text: c.textContent.trim(), left: r.left, right: r.right, height: r.height,
                cut: c.scrollWidth > c.clientWidth + 1}; };
    return {box: {left: box.left, right: box.right}, width: grid.scrollWidth, room: table.clientWidth,
            scrolled: [...table.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1).length,
            header: [...grid.querySelectorAll('thead th')].map(cell),
            rows: [...grid.querySelectorAll('tbody tr')].map(row => [...row.querySelectorAll('th,td')].map(cell))}; }"""


def _assert_whole_on_a_phone(table, name: str) -> None:
    """A layer table on the phone: its three columns (layer, output, parameters) all on the screen, nothing
    to scroll sideways, no cell cut, and every row as many lines as the others (no output wrapped)."""
    shown = table.evaluate(_LAYER_TABLE)
    assert shown["width"] <= shown["room"] and shown["scrolled"] == 0, (
        f"{name}: the table is {shown['width']} px wide in {shown['room']}: it scrolls sideways"
    )
    assert 0 <= shown["box"]["left"] and shown["box"]["right"] <= PHONE["width"]
    assert [cell["text"] for cell in shown["header"]] == ["layer", "output", "parameters"], name
    heights = []
    for row in shown["rows"]:
        assert len(row) == 3 and all(cell["text"] for cell in row), f"{name}: {row}"
        assert re.fullmatch(r"\d+(×\d+)*", row[1]["text"]) and re.fullmatch(r"[\d,]+", row[2]["text"])
        for cell in row:
            assert not cell["cut"] and cell["right"] <= shown["box"]["right"] + 1, f"{name}: {cell} is cut"
        heights.append(max(cell["height"] for cell in row))
    assert max(heights) < 1.5 * min(heights), f"{name}: a row wraps onto more lines: {heights}"


def test_trains_layer_table_is_whole_on_a_phone(browser, app_url):
    """Train's "Layers" table on a 390-px phone, for every architecture: each layer's type, output and
    parameters whole on the screen."""
    context, page = _new_page(browser, PHONE)
    try:
        open_app_page(page, app_url, "train")
        architecture = page.get_by_role("combobox", name="Architecture")
        _tap_box(architecture)
        names = [name.strip() for name in page.get_by_role("option").all_inner_texts()]
        assert len(names) >= 8
        page.get_by_role("option", name=names[0], exact=True).tap()
        settle(page)
        layers = page.get_by_test_id("stExpander").filter(has_text="Layers")
        layers.locator("summary").tap()
        for name in names:
            if architecture.input_value() != name:
                _tap_box(architecture)
                page.get_by_role("option", name=name, exact=True).tap()
                settle(page)
            table = layers.get_by_test_id("stTable")
            expect(table).to_be_visible()
            _assert_whole_on_a_phone(table, name)
            expect(table.locator("tbody th").first).to_have_text("InputLayer")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_no_error(page)
    finally:
        context.close()


def test_insides_layer_table_is_whole_on_a_phone(browser, app_url):
    """Inside's layer table on a 390-px phone: each layer's name and type, output and parameters whole
    on the screen (the output was cut and the parameters scrolled out of the grid)."""
    context, page = _new_page(browser, PHONE)
    try:
        open_app_page(page, app_url, "inside")
        table = page.get_by_test_id("stTable").filter(has_text="parameters")
        expect(table).to_be_visible()
        table.scroll_into_view_if_needed()
        _assert_whole_on_a_phone(table, "small_cnn")
        first = table.locator("tbody th").first.inner_text().split("\n")
        assert [line.strip() for line in first] == ["digit", "InputLayer"]  # its name above its type
        assert_no_error(page)
    finally:
        context.close()


def _table_rows(page: Page, header: str) -> list[list[str]]:
    """The rows of a data grid as its accessible table gives them (the grid draws on a canvas)."""
    grid = page.get_by_test_id("stDataFrame").filter(has_text=header).first
    return grid.evaluate(
        "g => [...g.querySelectorAll('table tr')].map(r => [...r.querySelectorAll('td,th')].map(c => c.textContent))"
    )


def test_evaluate_writes_readable_numbers_and_hands_over_a_working_tflite_file(page: Page, app_url, e2e_models, mnist):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "evaluate")
    wait_for_charts(page)
    header, *rows = _table_rows(page, "published")
    for row in rows:
        values = dict(zip(header, row, strict=True))
        assert re.fullmatch(r"\d\.\d{4}", values["accuracy"]) and re.fullmatch(r"\d+\.\d\d", values["error %"])
        assert "None" not in row
    size_chart = page.get_by_test_id("stPlotlyChart").filter(
        has=page.locator(".gtitle", has_text="Test error against size")
    )
    size_chart.scroll_into_view_if_needed()
    ticks = size_chart.locator(".ytick text").all_text_contents()
    assert ticks and all(re.fullmatch(r"\d+(\.\d+)? %", tick) for tick in ticks), ticks  # "0.5 %", never a bare "9"
    legend, plot = size_chart.locator(".legend").bounding_box(), size_chart.locator(".nsewdrag").first.bounding_box()
    assert legend["y"] >= plot["y"] + plot["height"]  # under the plot, not beside it

    # the rarest confusion: a single mistake is one small picture, not a page-wide strip
    cell_box = page.get_by_role("combobox", name="Pick a cell to see its mistakes")
    cell_box.scroll_into_view_if_needed()
    settle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Pick a cell to see its mistakes").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    rarest = min(options.all_inner_texts(), key=lambda text: int(text.split("· ")[-1].split()[0].replace(",", "")))
    # typed, as a person picks from a long list: the list scrolls and, on a busy machine, is still
    # moving under a pointer aimed at its last visible item
    cell_box.fill(rarest.strip())
    cell_box.press("Enter")
    settle(page)
    expect(cell_box).to_have_value(rarest.strip())  # the pick was taken
    count = int(cell_box.input_value().split("· ")[-1].split()[0].replace(",", ""))
    gallery = page.get_by_test_id("stPlotlyChart").filter(has=page.locator(".annotation-text", has_text="#"))
    expect(gallery.locator(".annotation")).to_have_count(min(count, 40))
    assert gallery.bounding_box()["width"] <= 60 * min(count, 8) + 40

    with page.expect_download() as started:
        page.get_by_role("button", name=re.compile(r"TensorFlow Lite \(\.tflite\)")).click()
    download = started.value
    assert download.suggested_filename == "small_cnn-tflite.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        assert {"small_cnn.tflite", "small_cnn.json", "read_digit.py"} <= set(archive.namelist())
        tflite = archive.read("small_cnn.tflite")
    import tensorflow as tf

    batch = (mnist.x_test[:100].astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)
    interpreter = tf.lite.Interpreter(model_content=tflite)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], batch)
    interpreter.invoke()
    expected = inference.predict(registry.load(e2e_models / "small_cnn.keras"), batch)
    assert np.array_equal(interpreter.get_tensor(target["index"]).argmax(1), expected.argmax(1))
    assert_no_error(page)


def test_a_model_of_the_visitors_own_offers_its_downloads_on_evaluate(
    page: Page, app_url, e2e_models, e2e_visitor_models
):
    """A model in the visitor's workspace (trained or fine-tuned here, not shipped) offers its downloads on
    Evaluate once picked (they looked for it among the shipped models and showed none). Train's offer
    under a finished run is checked in test_browser_train."""
    name = registry.free_name("small_dense_takeaway", e2e_visitor_models)
    shipped = e2e_models / "small_dense.keras"
    registry.save(registry.load(shipped), registry.read_card(shipped), name, e2e_visitor_models)
    try:
        page.set_viewport_size({"width": 1400, "height": 1600})
        open_app_page(page, app_url, "evaluate")
        page.get_by_test_id("stSidebar").get_by_role("combobox").click()
        page.get_by_role("option", name=re.compile(rf"^{re.escape(name)} · ")).click()
        settle(page)
        expect(page.get_by_text(re.compile(rf"^{re.escape(name)} as its Keras file"))).to_be_visible()
        assert {f"{name}.tflite", f"{name}.json", "read_digit.py"} <= downloaded_names(
            page, r"TensorFlow Lite \(\.tflite\)"
        )
        assert_no_error(page)
    finally:
        for saved in e2e_visitor_models.glob(f"{name}.*"):  # the other browser tests see the same workspace
            saved.unlink()


def test_a_digit_saved_twice_is_kept_once_and_an_import_says_what_it_did(page: Page, app_url, samples_db, tmp_path):
    store = samples.SampleStore(samples_db)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_app_page(page, app_url, "try_it")
    draw(page, SEVEN)
    settle(page)
    before = store.count()
    for _ in range(2):  # "Save as example" pressed twice for one drawing
        page.get_by_role("button", name=re.compile("Save as example")).click()
        settle(page)
    assert store.count() == before + 1

    # a classmate's zip of three examples, two of them one drawing (built by hand: a store keeps a repeat once)
    strokes = [np.zeros((28, 28), np.uint8) for _ in range(2)]
    for number, image in enumerate(strokes):
        image[4:24, 6 + 4 * number : 9 + 4 * number] = 255  # two strokes no other test draws
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("samples.csv", "label,input_file\n1,inputs/a.png\n1,inputs/b.png\n4,inputs/c.png\n")
        for name, image in (("a", strokes[0]), ("b", strokes[0]), ("c", strokes[1])):
            png = io.BytesIO()
            Image.fromarray(image).save(png, format="PNG")
            handle.writestr(f"inputs/{name}.png", png.getvalue())
    (tmp_path / "repeat.zip").write_bytes(archive.getvalue())
    before = store.count()
    sidebar_link(page, "My digits").click()
    expect(page.get_by_role("heading", name="My digits", exact=True)).to_be_visible()
    settle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(tmp_path / "repeat.zip")
    page.get_by_role("button", name=re.compile("Import$")).click()
    expect(
        page.get_by_text("Imported 2 example(s). Skipped 1 repeating another example of the same zip (kept once).")
    ).to_be_visible()
    settle(page)
    assert store.count() == before + 2
    assert_no_error(page)


def test_a_finished_fine_tune_shows_its_line_uncovered_and_its_scores_as_percentages(
    browser, app_url, samples_db, e2e_models, mnist
):
    """On a phone: the job line says "finished", the before/after reads "96.59 %", and no table toolbar
    (shown on hover or touch) covers the job line above it."""
    store = samples.SampleStore(samples_db)
    for index in range(20, 40):  # twenty test digits saved as the visitor's own
        store.add(mnist.x_test[index], int(mnist.y_test[index]), source="canvas")
    context, page = _new_page(browser, PHONE)
    try:
        open_app_page(page, app_url, "my_digits")
        page.get_by_label("Epochs").fill("1")
        page.get_by_label("Epochs").press("Enter")
        settle(page)
        name = page.get_by_label("Save as").input_value()
        page.get_by_role("button", name=re.compile("Fine-tune$")).tap()
        job_line = page.get_by_text(re.compile(rf"^{re.escape(name)} \(from small_cnn\) · finished · \d+ s$"))
        expect(job_line).to_be_visible(timeout=300_000)  # a ceiling for the tiny job, not a speed assertion
        table = page.get_by_test_id("stTable").filter(has_text="before")
        expect(table).to_be_visible()
        cells = table.locator("td").all_inner_texts()
        assert len(cells) == 4 and all(re.fullmatch(r"\d{1,3}\.\d\d %", cell.strip()) for cell in cells), cells
        table.tap()
        table.hover()
        line = job_line.bounding_box()
        for toolbar in page.get_by_test_id("stElementToolbar").all():
            box = toolbar.bounding_box()
            if box and box["width"] > 0:
                assert not _overlaps(line, box), "A table toolbar covers the job line"
        assert_no_error(page)
    finally:
        context.close()
        for saved in e2e_models.glob("small_cnn_mine*"):  # the other browser tests see the same models
            saved.unlink()


def _overlaps(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )
