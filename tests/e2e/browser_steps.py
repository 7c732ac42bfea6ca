"""What a person does in the browser tests, step by step: open a page, wait for the app to settle,
draw on the Try it pad with the mouse at a person's pace, and read what the page shows."""

from __future__ import annotations

import io
import re
import time
import urllib.request
import zipfile

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from e2e_paths import E2E_WORKSPACE

PAGES = {
    "explore": "Explore the data",
    "train": "Train",
    "evaluate": "Evaluate",
    "try_it": "Try it",
    "inside": "Inside the CNN",
    "my_digits": "My digits",
}
MOVE_SECONDS = 0.008  # between pointer moves: a 200-px stroke takes about half a second, like a hand


def settle(page: Page) -> None:
    """Wait until the script run that the last action started has finished."""
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)  # elements whose code is still loading


def open_app_page(page: Page, app_url: str, slug: str, workspace: str = E2E_WORKSPACE) -> None:
    """Open a page in `workspace`, as a visitor's bookmarked link does."""
    page.goto(f"{app_url}/{slug if slug != 'explore' else ''}?ws={workspace}")
    expect(page.get_by_role("heading", name=PAGES[slug], exact=True)).to_be_visible()
    settle(page)


def sidebar_link(page: Page, title: str):
    """The sidebar's link to the page titled `title` (app_pages/navigation.py draws them)."""
    return page.get_by_test_id("stSidebar").get_by_role("link").filter(has_text=title)


def prediction(page: Page):
    return page.get_by_test_id("stMetric").filter(has_text="Prediction").get_by_test_id("stMetricValue")


def downloaded_names(page: Page, button: str) -> set[str]:
    """The files in the zip that the download button named like `button` (a pattern) hands over."""
    with page.expect_download() as started:
        page.get_by_role("button", name=re.compile(button)).click()
    with zipfile.ZipFile(started.value.path()) as archive:
        return set(archive.namelist())


def pad(page: Page):
    """The drawing pad's canvas (inside the component's shadow root, which Playwright's locators pierce)."""
    return page.get_by_test_id("drawing-pad")


def stroke(page: Page, points: list[tuple[int, int]]) -> None:
    """One mouse stroke through `points` (pad pixels, origin top left: 280x280 for a digit, 560x280 for
    a number), moving like a hand."""
    box = pad(page).bounding_box()
    scale = box["width"] / pad(page).evaluate("canvas => canvas.width")  # shown smaller on a phone
    page.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        steps = max(2, int(np.hypot(x1 - x0, y1 - y0) / 8))
        for step in range(1, steps + 1):
            t = step / steps
            page.mouse.move(box["x"] + (x0 + t * (x1 - x0)) * scale, box["y"] + (y0 + t * (y1 - y0)) * scale)
            time.sleep(MOVE_SECONDS)
    page.mouse.up()


def draw(page: Page, strokes: list[list[tuple[int, int]]], pause: float = 0.3) -> None:
    """Draw every stroke once, `pause` seconds between strokes. Never again: a lost stroke must show."""
    expect(pad(page)).to_have_count(1)
    for number, points in enumerate(strokes):
        if number:
            time.sleep(pause)
        stroke(page, points)


def clear(page: Page) -> None:
    page.get_by_role("button", name="Clear the drawing").click()


def read_from(page: Page, strokes: int):
    """The caption saying how many strokes the prediction on screen was read from."""
    return page.get_by_text(f"Read from the whole drawing: {strokes} stroke{'s' if strokes != 1 else ''}.", exact=True)


def pad_ink(page: Page) -> np.ndarray:
    """The pad's pixels as a (280, 280) float array in [0, 1] (its red channel: white ink on black)."""
    values = pad(page).evaluate(
        "canvas => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data"
        ".filter((_, index) => index % 4 === 0))"
    )
    return np.asarray(values, dtype=np.float32).reshape(280, 280) / 255.0


def first_step_ink(page: Page) -> np.ndarray:
    """The steps strip's first image (what the app read, before any processing) as floats in [0, 1]."""
    source = page.get_by_test_id("stImageContainer").filter(has_text="Grayscale").locator("img").get_attribute("src")
    with urllib.request.urlopen(source, timeout=30) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert("L"), dtype=np.float32) / 255.0


def ink_overlap(page: Page) -> float:
    """Intersection over union of the ink on the pad and the ink in the first step image.

    1.0 when the app read exactly what is on the pad; a stroke missing from either side drops it
    to about the share of ink that stroke holds."""
    step = first_step_ink(page) > 0.5
    shown = (
        np.asarray(
            Image.fromarray((pad_ink(page) * 255).astype(np.uint8)).resize(
                (step.shape[1], step.shape[0]), Image.Resampling.BOX
            ),
            dtype=np.float32,
        )
        / 255.0
        > 0.5
    )
    union = np.logical_or(step, shown).sum()
    return float(np.logical_and(step, shown).sum() / union) if union else 0.0
