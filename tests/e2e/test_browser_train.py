"""Train in a real Chromium, as a person clicks it: a recipe sets every box and Train runs what the
boxes show (the card records it); tiny subsets train, and their model can be downloaded under the
result; a one-epoch run draws its curve while it runs and Stop ends it at once; after Stop the page
shows the saved model's epochs and "Save as" offers a fresh name."""

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from browser_steps import downloaded_names, open_app_page, settle
from digitcore import registry

pytestmark = pytest.mark.e2e

TRAINING_SECONDS = 300  # a ceiling for a job, never an assertion about speed
# Stop is measured in bench/train_click.py; here it is only held to a loose bound on a shared machine.
STOP_SECONDS_LOOSELY = 10


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def _fill(page: Page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    settle(page)


def _choose_recipe(page: Page, label: str) -> None:
    page.get_by_test_id("stRadio").filter(has_text="Recipe").get_by_text(label, exact=True).click()
    settle(page)


def _slider_value(page: Page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label).get_by_test_id("stSliderThumbValue")


def _expect_boxes(page: Page, *, epochs: str, batch: str, rate: str, augmented: bool) -> None:
    expect(page.get_by_label("Epochs", exact=True)).to_have_value(epochs)
    expect(_slider_value(page, "Batch size")).to_have_text(batch)
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value(rate)
    toggle = page.get_by_test_id("stCheckbox").filter(has_text="Augmentation").locator("input")
    (expect(toggle).to_be_checked if augmented else expect(toggle).not_to_be_checked)()
    expect(page.get_by_test_id("stSlider").filter(has_text="Rotation (°)")).to_have_count(1 if augmented else 0)


def _training_points(page: Page) -> int:
    """How many points the accuracy chart's training curve has (0 before it is drawn)."""
    return page.evaluate(
        """() => {
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const title = (plot.layout && plot.layout.title && plot.layout.title.text) || '';
                const training = (plot.data || []).find((trace) => trace.name === 'training');
                if (title.includes('Accuracy') && training) return training.x.length;  // Streamlit bolds titles
            }
            return 0;
        }"""
    )


def test_each_recipe_sets_every_box_and_train_runs_what_they_show(page: Page, app_url, e2e_visitor_models):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "train")
    _expect_boxes(page, epochs="1", batch="256", rate="0.00800", augmented=False)
    _choose_recipe(page, "Full")
    _expect_boxes(page, epochs="40", batch="128", rate="0.00300", augmented=True)
    expect(_slider_value(page, "Real-handwriting changes")).to_have_text("0.50")
    _choose_recipe(page, "Fast, augmented")
    _expect_boxes(page, epochs="3", batch="64", rate="0.00300", augmented=True)
    expect(_slider_value(page, "Real-handwriting changes")).to_have_text("0.00")
    _fill(page, "Training digits (of 60,000)", "1000")
    _expect_boxes(page, epochs="3", batch="64", rate="0.00300", augmented=True)  # a recipe of epochs keeps them
    _fill(page, "Epochs", "2")  # a box changed by hand: the choice says so
    expect(page.get_by_text("Custom: your own settings, started from Fast, augmented")).to_be_visible()
    expect(page.get_by_text("Custom settings: Train runs exactly what the boxes show.")).to_be_visible()

    name = page.get_by_label("Save as", exact=True).input_value()
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(rf"{name} .*1,000 digits · 2 epoch\(s\) × batch 64"))).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text(re.compile(rf"^Saved {name}"))).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    recipe = json.loads((e2e_visitor_models / f"{name}.json").read_text())["training"]["recipe"]
    assert (recipe["epochs"], recipe["batch_size"], recipe["learning_rate"]) == (2, 64, 0.003)
    assert recipe["augmentation"]["rotation_degrees"] == 10.0 and recipe["augmentation"]["real_inputs"] == 0.0
    assert json.loads((e2e_visitor_models / f"{name}.json").read_text())["training"]["limit"] == 1000


@pytest.mark.parametrize("digits, epochs", [("2", "100"), ("200", "100")])
def test_a_tiny_subset_trains_with_the_epochs_the_box_shows(page: Page, app_url, e2e_visitor_models, digits, epochs):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "train")
    _fill(page, "Training digits (of 60,000)", digits)
    expect(page.get_by_label("Epochs", exact=True)).to_have_value(epochs)
    name = page.get_by_label("Save as", exact=True).input_value()
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(rf"^Saved {name}"))).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    expect(page.get_by_text("internal error")).to_have_count(0)
    card = json.loads((e2e_visitor_models / f"{name}.json").read_text())
    assert card["training"]["limit"] == int(digits) and card["training"]["epochs_completed"] == int(epochs)
    # the run's model can be taken away under its result (it is in the visitor's workspace, not shipped)
    page.get_by_test_id("stExpander").filter(has_text="Take this model with you").locator("summary").click()
    assert {f"{name}.keras", f"{name}.json", "read_digit.py"} <= downloaded_names(page, r"Keras \(\.keras\)")


def test_a_one_epoch_run_draws_its_curve_while_it_runs_and_stops_at_once(page: Page, app_url, e2e_visitor_models):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_app_page(page, app_url, "train")
    _fill(page, "Training digits (of 60,000)", "30000")
    # a person sees the epochs the fast recipe runs on 30,000 digits, then asks for one
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("2")
    _fill(page, "Epochs", "1")
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("1")
    name = page.get_by_label("Save as", exact=True).input_value()
    page.get_by_role("button", name=re.compile("Train$")).click()
    epoch_bar = page.get_by_text(re.compile(r"^Epoch 1 of 1, step \d+ of \d+$"))
    expect(epoch_bar).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    deadline = time.monotonic() + TRAINING_SECONDS
    while _training_points(page) < 10:  # ten points of the curve while the only epoch still runs
        assert time.monotonic() < deadline, "the curve never reached ten points"
        expect(epoch_bar).to_be_visible()
        page.wait_for_timeout(250)
    expect(epoch_bar).to_be_visible()
    expect(_metric(page, "Validation accuracy")).to_be_visible()  # scored before the epoch's end
    clicked = time.monotonic()
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped before the first epoch finished; nothing was saved.")).to_be_visible(
        timeout=TRAINING_SECONDS * 1000
    )
    assert time.monotonic() - clicked < STOP_SECONDS_LOOSELY
    assert not (e2e_visitor_models / f"{name}.keras").exists()


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
    for label, value in {"Epochs": "30", "Training digits (of 60,000)": "10000"}.items():
        _fill(page, label, value)
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("30")  # a custom run keeps the visitor's epochs
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(r"^Epoch ([3-9]|\d\d) of 30, step"))).to_be_visible(
        timeout=TRAINING_SECONDS * 1000
    )  # two epochs ended
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

    # This visitor's run took the name: the field proposes the next free one, and says why.
    fresh = registry.free_name("my_larger_cnn", e2e_visitor_models, taken=shipped)
    assert fresh != proposed
    expect(page.get_by_label("Save as", exact=True)).to_have_value(fresh)
    expect(page.get_by_text(f"Your last run took the name {proposed}; this one gets a new name.")).to_be_visible()
    expect(page.get_by_text("already exists")).to_have_count(0)
