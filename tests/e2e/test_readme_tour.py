"""The README's tour, taken in a real Chromium over the shipped models: each page shows what the README
says of it, and its screenshot in docs/screenshots/ is taken afresh, so the pictures cannot drift
from the product (they once showed 99.60 %, 162,890 parameters and the old Train defaults)."""

import json
import re
import shutil
from pathlib import Path

import pytest
from e2e_server import served_app
from playwright.sync_api import Page, expect

from browser_steps import draw, open_app_page, prediction, settle
from e2e_paths import E2E_WORKSPACE, ROOT

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "docs" / "screenshots"
SHIPPED = ROOT / "models"
TRAINING_SECONDS = 300  # a ceiling for the tour's short run, never an assertion about speed
SEVEN = [[(70, 70), (210, 70), (120, 230)]]


@pytest.fixture(scope="module")
def shipped_url(tmp_path_factory):
    """The app over a copy of the shipped models; the tour's short run is saved in a throwaway workspace."""
    folder = tmp_path_factory.mktemp("tour")
    shutil.copytree(SHIPPED, folder / "models", ignore=shutil.ignore_patterns(".tmp-*", ".jobs"))
    with served_app(folder / "models", folder / "workspaces", "tour-server.log") as url:
        yield url, folder / "workspaces" / E2E_WORKSPACE / "models"  # where the visitor's run is saved


def _default_card() -> dict:
    return json.loads((SHIPPED / "digitnet.json").read_text())


def _shot(page: Page, name: str) -> None:
    settle(page)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def test_explore(page: Page, shipped_url):
    url, _ = shipped_url
    open_app_page(page, url, "explore")
    expect(page.get_by_text("60,000").first).to_be_visible()
    _shot(page, "explore.png")


def test_train_after_a_short_run(page: Page, shipped_url):
    url, models = shipped_url
    page.set_viewport_size({"width": 1400, "height": 1700})
    open_app_page(page, url, "train")
    parameters = _default_card()["parameters"]
    expect(page.get_by_text(f"{parameters:,} parameters")).to_be_visible()
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("1")  # the fast recipe, the page's default
    expect(page.get_by_text(re.compile(r"^Estimated time: about"))).to_be_visible()
    field = page.get_by_label("Training digits (of 60,000)", exact=True)
    field.fill("3000")
    field.press("Enter")
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("20")  # 60,000 digits seen
    # The picture needs a run's curves, not its full length: 4 epochs (12,000 digits seen) keep the
    # suite's minutes for the tests, and the page says these are custom settings.
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("4")
    epochs.press("Enter")
    expect(page.get_by_text(re.compile(r"^Custom: your own settings"))).to_be_visible()
    name = page.get_by_label("Save as", exact=True).input_value()
    page.get_by_role("button", name=re.compile("Train$")).click()
    expect(page.get_by_text(re.compile(rf"^Saved {name}"))).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    assert (models / f"{name}.keras").exists()
    _shot(page, "train.png")


def test_evaluate(page: Page, shipped_url):
    url, _ = shipped_url
    page.set_viewport_size({"width": 1400, "height": 1400})
    open_app_page(page, url, "evaluate")
    accuracy = _default_card()["test_accuracy"]
    expect(page.get_by_text(f"{100 * accuracy:.2f} %").first).to_be_visible()
    _shot(page, "evaluate.png")


def test_try_it_with_a_drawn_seven(page: Page, shipped_url):
    url, _ = shipped_url
    page.set_viewport_size({"width": 1400, "height": 1400})
    open_app_page(page, url, "try_it")
    draw(page, SEVEN)
    expect(prediction(page)).to_have_text("7")
    _shot(page, "try-it-drawn.png")


@pytest.mark.parametrize("slug, picture", [("inside", "inside.png"), ("my_digits", "my-digits.png")])
def test_the_other_pages(page: Page, shipped_url, slug, picture):
    url, _ = shipped_url
    open_app_page(page, url, slug)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    _shot(page, picture)


def test_every_screenshot_the_readme_shows_is_taken_here():
    shown = set(re.findall(r"\(docs/screenshots/([\w-]+\.png)\)", (ROOT / "README.md").read_text()))
    taken = set(re.findall(r'"([\w-]+\.png)"', Path(__file__).read_text()))
    assert shown <= taken | {"try-it-photo.png"}, shown - taken
