"""The browser's Back and Forward after page switches, in a real Chromium: each returns to the page the
visitor was on, the URL keeps the same workspace key (?ws=) all along, and a reload keeps the workspace.

Since workspaces the key lives in the URL; Streamlit's own navigation dropped it on a page switch, the
page wrote it back, and every such write was a history entry of its own, so Back stayed on the page the
visitor meant to leave (app_pages/navigation.py). A Back that does not return fails here: each step
waits for the page it should show, lets the app settle, and checks the page and the URL again.
"""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from app_helpers import SEVEN
from browser_steps import PAGES, draw, open_app_page, read_from, settle, sidebar_link
from digitcore import samples

pytestmark = pytest.mark.e2e

WORKSPACE = "history-visitor"
PATHS = {title: "" if slug == "explore" else slug for slug, title in PAGES.items()}  # a page's URL path


def _assert_on(page: Page, title: str) -> None:
    """The page titled `title` is shown, and stays shown once the app has settled, with the workspace's key."""
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    settle(page)
    page.wait_for_timeout(500)  # a late write of the URL would move the page now
    settle(page)
    for other in PAGES.values():
        expect(page.get_by_role("heading", name=other, exact=True)).to_have_count(1 if other == title else 0)
    address = urlparse(page.url)
    assert address.path == f"/{PATHS[title]}", f"on {title}, the address is {page.url}"
    assert parse_qs(address.query).get("ws") == [WORKSPACE], f"on {title}, the address is {page.url}"


def _history_index(page: Page) -> int:
    """Where the tab is in its history (Chromium's Navigation API; history.length also counts entries
    ahead of it, which a new entry drops)."""
    return page.evaluate("navigation.currentEntry.index")


def _switch(page: Page, title: str) -> None:
    """Click the sidebar's link to `title`: the switch must be exactly one browser-history entry (the old
    switch made two or more, one of them on the page being left, and which one Back met was a race)."""
    entries = _history_index(page)
    sidebar_link(page, title).click()
    _assert_on(page, title)
    made = _history_index(page) - entries
    assert made == 1, f"the switch to {title} made {made} browser-history entries"


def test_back_and_forward_walk_the_pages_with_the_same_workspace(page: Page, app_url, e2e_workspaces, mnist):
    store = samples.SampleStore(e2e_workspaces / WORKSPACE / "samples.sqlite3")
    if store.count() == 0:
        store.add(mnist.x_test[0], int(mnist.y_test[0]))
    saved = re.compile(rf"^{store.count()} example\(s\)")
    page.set_viewport_size({"width": 1400, "height": 1400})
    open_app_page(page, app_url, "try_it", workspace=WORKSPACE)
    draw(page, SEVEN)
    expect(read_from(page, 1)).to_be_visible()
    _assert_on(page, "Try it")

    _switch(page, "My digits")
    expect(page.get_by_text(saved)).to_be_visible()
    _switch(page, "Explore the data")

    page.go_back()
    _assert_on(page, "My digits")
    page.go_back()
    _assert_on(page, "Try it")
    expect(read_from(page, 1)).to_be_visible()  # the drawing is still there, and read
    page.go_forward()
    _assert_on(page, "My digits")

    page.reload()
    _assert_on(page, "My digits")
    expect(page.get_by_text(saved)).to_be_visible()  # the workspace's digits, after a reload
    _switch(page, "Try it")  # its link carries the page's choices too: arriving writes nothing more
    page.go_back()
    _assert_on(page, "My digits")


def test_on_a_phone_a_tapped_page_link_closes_the_sidebar(browser, app_url):
    """On a phone the sidebar covers the page; Streamlit's navigation closed it after a tap on a page, and
    the links that replace it must too, else the visitor lands on a page hidden behind the sidebar."""
    expect.set_options(timeout=60_000)  # a first visit imports TensorFlow
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        open_app_page(page, app_url, "explore", WORKSPACE)
        sidebar = page.get_by_test_id("stSidebar")
        if sidebar.get_attribute("data-collapsed") != "false":
            page.get_by_test_id("stExpandSidebarButton").tap()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        sidebar_link(page, "Try it").tap()
        expect(page.get_by_role("heading", name="Try it", exact=True)).to_be_visible()
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        settle(page)
        expect(sidebar).to_have_attribute("data-collapsed", "true")  # and it stays closed
    finally:
        context.close()
