"""Teach it your handwriting in a real Chromium: draw, correct the label, find it on My digits."""

import re

import pytest
from playwright.sync_api import Page, expect

from browser_steps import draw, open_app_page, prediction, read_from, settle, sidebar_link
from digitcore import samples
from e2e_paths import ARTEFACTS
from test_browser import assert_no_error

pytestmark = pytest.mark.e2e

SEVEN = [[(70, 60), (140, 60), (210, 60), (165, 150), (120, 240)]]


def test_a_corrected_digit_appears_on_my_digits(page: Page, app_url, samples_db):
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_app_page(page, app_url, "try_it")
    draw(page, SEVEN)
    expect(read_from(page, 1)).to_be_visible()
    expect(prediction(page)).to_have_text(re.compile(r"^\d$"))
    settle(page)
    predicted = int(prediction(page).inner_text())
    corrected = (predicted + 1) % 10  # the user says the model is wrong
    page.get_by_test_id("stSelectbox").filter(has_text="Wrong — it is a …").click()
    page.get_by_role("option", name=str(corrected), exact=True).click()
    settle(page)
    page.get_by_role("button", name=re.compile("Save as example")).click()
    expect(page.get_by_text(f"Saved as a {corrected}")).to_be_visible()
    settle(page)
    assert_no_error(page)
    sidebar_link(page, "My digits").click()
    expect(page.get_by_role("heading", name="My digits", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^{corrected} · canvas · read as {predicted} "))).to_be_visible()
    settle(page)
    assert_no_error(page)
    page.screenshot(path=ARTEFACTS / "my-digits.png", full_page=True)
    saved = samples.SampleStore(samples_db).list()
    assert [(sample.label, sample.predicted, sample.source) for sample in saved][-1] == (corrected, predicted, "canvas")
