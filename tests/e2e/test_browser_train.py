"""Train in a real Chromium: after Stop the page shows the saved model's epochs (issue 16, item 4),
and "Save as" proposes a fresh name once a model took the proposed one (item 5)."""

import json
import re

import pytest
from playwright.sync_api import expect

from browser_steps import open_app_page, settle
from digitcore import registry

pytestmark = pytest.mark.e2e

TRAINING_SECONDS = 240  # a ceiling for the job, never an assertion about speed


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_after_stop_the_page_shows_the_saved_epochs_and_save_as_offers_a_fresh_name(
    page, app_url, e2e_models, e2e_visitor_models
):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "train")
    page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
    page.get_by_role("option", name="Larger CNN (9 layers)").click()
    expect(page.get_by_text("59,933 parameters")).to_be_visible()
    settle(page)
    shipped = {path.stem for path in e2e_models.glob("*.keras")}
    proposed = registry.free_name("my_larger_cnn", e2e_visitor_models, taken=shipped)
    expect(page.get_by_label("Save as", exact=True)).to_have_value(proposed)
    for label, value in {"Epochs": "30", "Training digits (subset of 60,000)": "10000"}.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        settle(page)
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(_metric(page, "Validation accuracy")).to_be_visible(timeout=TRAINING_SECONDS * 1000)  # epoch 1 ended
    expect(page.get_by_text(re.compile(r"^Epoch ([2-9]|\d\d) of 30, step"))).to_be_visible()  # inside a later epoch
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(rf"^Saved {proposed} \(stopped early"))).to_be_visible(
        timeout=TRAINING_SECONDS * 1000
    )
    settle(page)

    card = json.loads((e2e_visitor_models / f"{proposed}.json").read_text())
    kept = card["history"][card["training"]["kept_epoch"] - 1]
    assert card["training"]["epochs_completed"] == len(card["history"])  # no unfinished epoch in the card
    expect(_metric(page, "Validation accuracy")).to_have_text(f"{100 * kept['val_accuracy']:.2f} %")
    expect(_metric(page, "Training accuracy")).to_have_text(f"{100 * kept['accuracy']:.2f} %")
    expect(page.get_by_text(f"test {100 * card['test_accuracy']:.2f} % on the 10,000 test digits")).to_be_visible()

    # The name just used is taken now: the field proposes the next free one, and Train is not refused.
    fresh = registry.free_name("my_larger_cnn", e2e_visitor_models, taken=shipped)
    assert fresh != proposed
    expect(page.get_by_label("Save as", exact=True)).to_have_value(fresh)
    expect(page.get_by_text("already exists")).to_have_count(0)
