"""The app in a real headless Chromium: draw, upload, train across page switches, visit every page."""

import re

import pytest
from playwright.sync_api import Page, expect

from app_helpers import ONE, PHOTO_SEVEN, SEVEN, photo_of_digit
from browser_steps import clear, draw, open_app_page, pad, prediction, read_from, settle, sidebar_link
from e2e_paths import ARTEFACTS

pytestmark = pytest.mark.e2e

TRAINING_SECONDS = 240  # a ceiling for the tiny job, never an assertion about speed
TOUR = ["explore", "train", "evaluate", "try_it", "inside"]


def wait_for_charts(page: Page) -> None:
    """Plotly draws after the script run ends: wait until every chart has its SVG, before a screenshot."""
    for chart in page.get_by_test_id("stPlotlyChart").all():
        expect(chart.locator(".main-svg").first).to_be_attached()


def assert_no_error(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


@pytest.mark.parametrize("slug", TOUR)  # each of the five pages
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
    draw(page, ONE)
    expect(read_from(page, 1)).to_be_visible()
    expect(prediction(page)).to_have_text("1")
    settle(page)
    clear(page)
    expect(page.get_by_text("Draw a digit on the canvas")).to_be_visible()
    settle(page)
    draw(page, SEVEN)
    expect(prediction(page)).to_have_text("7")
    settle(page)
    expect(prediction(page)).to_have_text("7")  # still 7 once every rerun has landed
    expect(pad(page)).to_have_count(1)
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
    settings = {"Epochs": "2", "Training digits (of 60,000)": "1500", "Save as": "e2e_model"}
    for label, value in settings.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        settle(page)
    for label, value in settings.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(r"^Epoch [12] of 2"))).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^e2e_model \(Larger CNN \(9 layers\)\) · (starting|training)"))
    ).to_be_visible()
    sidebar_link(page, "Explore the data").click()
    expect(page.get_by_role("heading", name="Explore the data", exact=True)).to_be_visible()
    sidebar_link(page, "Train").click()
    expect(
        page.get_by_text(re.compile(r"^e2e_model \(Larger CNN \(9 layers\)\) · (starting|training|finished)"))
    ).to_be_visible()
    page.close()  # the tab goes; the job does not
    fresh = browser.new_page(viewport={"width": 1400, "height": 1300})
    open_app_page(fresh, app_url, "train")
    expect(fresh.get_by_text(re.compile(r"^Saved e2e_model: .* after 2 epoch"))).to_be_visible(
        timeout=TRAINING_SECONDS * 1000
    )
    settle(fresh)
    assert_no_error(fresh)
    wait_for_charts(fresh)
    fresh.screenshot(path=ARTEFACTS / "train-finished.png", full_page=True)
    fresh.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    expect(fresh.get_by_role("option", name=re.compile("^e2e_model"))).to_be_visible()
    fresh.close()
