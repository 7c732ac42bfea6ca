"""The app in a real headless Chromium: draw, upload, train across page switches, visit every page."""

import re

import pytest
from playwright.sync_api import Page, expect

from app_helpers import PHOTO_SEVEN, photo_of_digit
from e2e_paths import ARTEFACTS

pytestmark = pytest.mark.e2e

PAGES = {"explore": "Explore the data", "train": "Train", "evaluate": "Evaluate", "try_it": "Try it",
         "inside": "Inside the CNN"}
TRAINING_SECONDS = 240  # a ceiling for the tiny job, never an assertion about speed


def settle(page: Page) -> None:
    """Wait until the script run that the last action started has finished."""
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)  # elements whose code is still loading


def open_app_page(page: Page, app_url: str, slug: str) -> None:
    page.goto(f"{app_url}/{slug if slug != 'explore' else ''}")
    expect(page.get_by_role("heading", name=PAGES[slug], exact=True)).to_be_visible()
    settle(page)


def wait_for_charts(page: Page) -> None:
    """Plotly draws after the script run ends: wait until every chart has its SVG, before a screenshot."""
    for chart in page.get_by_test_id("stPlotlyChart").all():
        expect(chart.locator(".main-svg").first).to_be_attached()


def assert_no_error(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def prediction(page: Page):
    return page.get_by_test_id("stMetric").filter(has_text="Prediction").get_by_test_id("stMetricValue")


def canvas(page: Page):
    return page.locator("[data-testid='stBidiComponentIsolated'] canvas.upper-canvas")


def draw(page: Page, strokes: list[list[tuple[int, int]]]) -> None:
    """Mouse strokes on the canvas, in canvas pixels (280x280, origin top left)."""
    surface = canvas(page)
    expect(surface).to_have_count(1)
    expect(surface).to_be_visible()
    box = surface.bounding_box()
    for points in strokes:
        page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()


def ink_on_canvas(page: Page) -> int:
    """How many bright pixels the drawing layer holds (the background is a canvas of its own)."""
    return page.locator("[data-testid='stBidiComponentIsolated'] canvas.dc-canvas.lower-canvas").evaluate(
        """canvas => {
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let bright = 0;
            for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 128) bright++;
            return bright;
        }""")


def draw_digit(page: Page, strokes: list[list[tuple[int, int]]]) -> None:
    """Draw, and draw again if a freshly mounted canvas was not listening yet (it happens on a busy
    machine: the strokes leave no ink at all). A person would simply draw again too."""
    for _ in range(3):
        draw(page, strokes)
        settle(page)
        if ink_on_canvas(page) > 0:
            return
    raise AssertionError("Three attempts at drawing left the canvas empty.")


@pytest.mark.parametrize("slug", list(PAGES))  # each of the five pages
def test_every_page_opens_without_an_error(page, app_url, slug):
    page.set_viewport_size({"width": 1400, "height": 3000})  # the app scrolls inside: tall enough to see it all
    open_app_page(page, app_url, slug)
    assert_no_error(page)
    wait_for_charts(page)
    page.screenshot(path=ARTEFACTS / f"page-{slug}.png", full_page=True)


def test_drawing_a_one_and_a_seven(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "try_it")
    expect(page.get_by_text("Draw a digit on the canvas")).to_be_visible()
    draw_digit(page, [[(140, 40), (140, 140), (140, 240)]])
    expect(prediction(page)).to_have_text("1")
    settle(page)
    drawn_on = canvas(page).element_handle()
    page.get_by_role("button", name=re.compile("Clear")).click()
    drawn_on.wait_for_element_state("hidden")  # Clear swaps in a new, empty canvas
    expect(page.get_by_text("Draw a digit on the canvas")).to_be_visible()
    settle(page)
    draw_digit(page, [[(70, 60), (140, 60), (210, 60), (165, 150), (120, 240)]])
    expect(prediction(page)).to_have_text("7")
    settle(page)
    expect(prediction(page)).to_have_text("7")  # still 7 once every rerun has landed
    assert_no_error(page)
    wait_for_charts(page)
    page.screenshot(path=ARTEFACTS / "try-it-drawn-7.png", full_page=True)


def test_uploading_a_photo_of_a_seven(page, app_url, tmp_path):
    photo = tmp_path / "seven.jpg"
    photo.write_bytes(photo_of_digit(PHOTO_SEVEN))
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "try_it")
    page.get_by_text("Upload a photo", exact=True).click()
    settle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photo)
    expect(prediction(page)).to_have_text("7")
    settle(page)
    assert_no_error(page)
    wait_for_charts(page)
    page.screenshot(path=ARTEFACTS / "try-it-photo-7.png", full_page=True)


def test_a_training_job_survives_a_page_switch_and_a_new_tab(page, browser, app_url):
    open_app_page(page, app_url, "train")
    page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
    page.get_by_role("option", name="Larger CNN (9 layers)").click()
    expect(page.get_by_text("59,933 parameters")).to_be_visible()  # the run drawing the preset's widgets ...
    settle(page)  # ... has ended, and the previous preset's widgets are gone
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("10")
    settings = {"Epochs": "2", "Training digits (subset of 60,000)": "1500", "Save as": "e2e_model"}
    for label, value in settings.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        settle(page)
    for label, value in settings.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(r"^Epoch [12] of 2"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^e2e_model \(Larger CNN \(9 layers\)\) · (starting|training)"))).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Explore the data").click()
    expect(page.get_by_role("heading", name="Explore the data", exact=True)).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
    expect(page.get_by_text(re.compile(r"^e2e_model \(Larger CNN \(9 layers\)\) · (starting|training|finished)"))
           ).to_be_visible()
    page.close()  # the tab goes; the job does not
    fresh = browser.new_page(viewport={"width": 1400, "height": 1300})
    open_app_page(fresh, app_url, "train")
    expect(fresh.get_by_text(re.compile(r"^Saved e2e_model: .* after 2 epoch"))).to_be_visible(
        timeout=TRAINING_SECONDS * 1000)
    settle(fresh)
    assert_no_error(fresh)
    wait_for_charts(fresh)
    fresh.screenshot(path=ARTEFACTS / "train-finished.png", full_page=True)
    fresh.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    expect(fresh.get_by_role("option", name=re.compile("^e2e_model"))).to_be_visible()
    fresh.close()
