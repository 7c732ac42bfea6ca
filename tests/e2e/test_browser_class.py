"""Two people in one class, in two browser contexts of a real Chromium (two laptops): B cannot see,
delete or stop A's digits, models or job, a forged workspace key leads nowhere, and both train at
once, each saving into their own workspace (issue 27)."""

import re

import pytest
from playwright.sync_api import expect

from browser_steps import open_app_page, settle
from digitcore import registry, samples
from e2e_paths import ARTEFACTS

pytestmark = pytest.mark.e2e

TRAINING_SECONDS = 300  # a ceiling for the jobs, never an assertion about speed
ANN, BOB = "ann-laptop", "bob-laptop"


@pytest.fixture
def two_laptops(browser):
    """Two browser contexts: no cookie, storage or session shared, as on two machines."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # the first visit imports TensorFlow and loads MNIST
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1800}) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    yield pages
    for number, tab in enumerate(pages):
        if not tab.is_closed():
            tab.screenshot(path=ARTEFACTS / f"class-laptop-{number}.png", full_page=True)
    for context in contexts:
        context.close()


def _set_up_larger_cnn(page, *, name: str, epochs: int, limit: int) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
    page.get_by_role("option", name="Larger CNN (9 layers)").click()
    expect(page.get_by_text("59,933 parameters")).to_be_visible()
    settle(page)
    settings = {"Epochs": str(epochs), "Training digits (of 60,000)": str(limit), "Save as": name}
    for label, value in settings.items():
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        settle(page)


def test_b_cannot_see_delete_or_stop_as_things_and_both_train(two_laptops, app_url, e2e_workspaces, mnist):
    ann, bob = two_laptops
    ann_store = samples.SampleStore(e2e_workspaces / ANN / "samples.sqlite3")
    for index in range(3):
        ann_store.add(mnist.x_test[index], int(mnist.y_test[index]))
    ann_digits = sorted(sample.input.tobytes() for sample in ann_store.list())

    # My digits: ann sees her three with Delete buttons; bob sees none of them and nothing to delete.
    open_app_page(ann, app_url, "my_digits", workspace=ANN)
    expect(ann.get_by_text(re.compile(r"^3 example\(s\)"))).to_be_visible()
    expect(ann.get_by_role("button", name="Delete")).to_have_count(3)
    open_app_page(bob, app_url, "my_digits", workspace=BOB)
    expect(bob.get_by_text(re.compile("^No examples yet"))).to_be_visible()
    expect(bob.get_by_role("button", name="Delete")).to_have_count(0)
    # A forged key that tries to reach ann's folder gives bob a fresh workspace of his own, not hers.
    bob.goto(f"{app_url}/my_digits?ws=../{ANN}")
    expect(bob.get_by_role("heading", name="My digits", exact=True)).to_be_visible()
    settle(bob)
    expect(bob.get_by_text(re.compile("^No examples yet"))).to_be_visible()
    assert ANN not in bob.url and "ws=" in bob.url

    # Train: ann starts a long run; bob sees no trace of it, and his Train is enabled.
    open_app_page(ann, app_url, "train", workspace=ANN)
    _set_up_larger_cnn(ann, name="ann_model", epochs=30, limit=10000)
    ann.get_by_role("button", name=re.compile("Train$")).click()
    expect(ann.get_by_text(re.compile(r"^Epoch \d+ of 30, step"))).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    open_app_page(bob, app_url, "train", workspace=BOB)
    _set_up_larger_cnn(bob, name="bob_model", epochs=1, limit=500)
    expect(bob.get_by_text("ann_model")).to_have_count(0)
    expect(bob.get_by_role("button", name="Stop")).to_have_count(0)
    bob_train = bob.get_by_role("button", name=re.compile("Train$"))
    expect(bob_train).to_be_enabled()
    bob_train.click()
    expect(bob.get_by_text(re.compile(r"^Saved bob_model: "))).to_be_visible(timeout=TRAINING_SECONDS * 1000)
    # ann's run went on beside bob's the whole time, and only ann can stop it.
    expect(ann.get_by_role("button", name="Stop")).to_be_visible()
    expect(ann.get_by_text("bob_model")).to_have_count(0)
    ann.get_by_role("button", name="Stop").click()
    expect(ann.get_by_role("button", name="Stop")).to_have_count(0, timeout=TRAINING_SECONDS * 1000)
    settle(ann)

    assert [entry.name for entry in registry.list_models(e2e_workspaces / BOB / "models")] == ["bob_model"]
    assert "bob_model" not in [entry.name for entry in registry.list_models(e2e_workspaces / ANN / "models")]
    assert sorted(sample.input.tobytes() for sample in ann_store.list()) == ann_digits  # untouched
