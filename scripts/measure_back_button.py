"""How often the browser's Back after a page switch returns to the page the visitor left, in a real Chromium.

Serves the app (`streamlit run`, over the shipped models, visitors' workspaces in a throwaway folder),
then, in a fresh browser context per repetition: open one page in a workspace (Explore, or Try it),
switch to the other through the sidebar, press Back, and note the page shown once the app has settled
(and a moment more, for a page that would write the URL again). Prints JSON per direction: how many
repetitions landed on the page left, the browser-history entries each switch made (one is right),
and the page and address each ended on.

    .venv/bin/python scripts/measure_back_button.py [--repetitions 10]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "app"), str(ROOT / "tests" / "e2e")]

from e2e_server import served_app  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from browser_steps import settle  # noqa: E402

CHROMIUM, CHROMIUM_ARGS = "/usr/bin/chromium", ["--no-sandbox", "--disable-gpu", "--no-first-run"]
TITLES = {"": "Explore the data", "try_it": "Try it"}  # a page's URL path: its title
SETTLE_MORE_MS = 1500  # after the app settles: time for a late write of the URL to move the page again


def one_switch_and_back(browser, url: str, workspace: str, left: str, switched_to: str) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{url}/{next(path for path, title in TITLES.items() if title == left)}?ws={workspace}")
        expect(page.get_by_role("heading", name=left, exact=True)).to_be_visible()
        settle(page)
        before = page.evaluate("navigation.currentEntry.index")
        page.get_by_test_id("stSidebar").get_by_role("link").filter(has_text=re.compile(f"{switched_to}$")).click()
        expect(page.get_by_role("heading", name=switched_to, exact=True)).to_be_visible()
        settle(page)
        page.wait_for_timeout(SETTLE_MORE_MS)
        entries = page.evaluate("navigation.currentEntry.index") - before
        page.go_back()
        page.wait_for_timeout(300)
        settle(page)
        page.wait_for_timeout(SETTLE_MORE_MS)
        settle(page)
        shown = page.get_by_role("heading", level=1).first.inner_text().strip()
        return {"shown": shown, "url": page.url.removeprefix(url), "history_entries_of_the_switch": entries}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=10)
    arguments = parser.parse_args()
    expect.set_options(timeout=90_000)
    with tempfile.TemporaryDirectory() as folder, served_app(ROOT / "models", Path(folder) / "workspaces") as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results = {}
            for left, switched_to in ((TITLES[""], TITLES["try_it"]), (TITLES["try_it"], TITLES[""])):
                runs = [
                    one_switch_and_back(browser, url, f"back-{len(results)}-{number}", left, switched_to)
                    for number in range(arguments.repetitions)
                ]
                results[f"{left} -> {switched_to} -> Back"] = {
                    "repetitions": len(runs),
                    "back_landed_on_the_page_left": sum(run["shown"] == left for run in runs),
                    "history_entries_per_switch": sorted({run["history_entries_of_the_switch"] for run in runs}),
                    "runs": runs,
                }
            browser.close()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
