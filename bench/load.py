"""Load test: 20 browser visitors draw digits on Try it while one training job runs; prints JSON.

Starts `streamlit run streamlit_app.py` headless on a free loopback port over a temporary copy of
the models folder, opens one Chromium with one browser context per visitor, and has each visitor
draw a 1 or a 7 with the mouse, wait for the prediction, clear, and draw again, until the time is up.
An extra visitor starts a tiny training job on the Train page first and waits for it to be saved.

    DIGITCORE_DATA_DIR=/work/main/data/mnist python bench/load.py --visitors 20 --seconds 120

Round trip = mouse-up of the last stroke until the Prediction metric shows a digit (the canvas was
cleared before, so the metric was absent). Visitor errors = exception boxes or error alerts seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when run as `python -m digitcore bench ...`
from served_app import CHROMIUM, CHROMIUM_ARGS, ROOT, machine, peak_rss_mb, percentile, served_app  # noqa: E402

ONE = [[(140, 40), (140, 140), (140, 240)]]  # strokes in canvas pixels (280x280)
SEVEN = [[(70, 60), (140, 60), (210, 60), (165, 150), (120, 240)]]
WAIT_MS = 120_000  # a ceiling for any one wait: a visitor stuck longer than this counts as an error
JOB_NAME = "load_job"


# --- one visitor --------------------------------------------------------------------------------


async def settle(page) -> None:
    """Wait until the script run started by the last action has finished."""
    from playwright.async_api import expect

    await expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached(
        timeout=WAIT_MS
    )
    await expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT_MS)


async def errors_on(page) -> int:
    return (await page.get_by_test_id("stException").count()) + (
        await page.get_by_test_id("stAlertContentError").count()
    )


async def draw(page, strokes) -> float:
    """Draw the strokes with the mouse; returns the monotonic time of the last mouse-up."""
    surface = page.get_by_test_id("drawing-pad")
    await surface.wait_for(state="visible", timeout=WAIT_MS)
    box = await surface.bounding_box()
    released = time.monotonic()
    for points in strokes:
        await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        await page.mouse.up()
        released = time.monotonic()
    return released


async def visitor(browser, url: str, number: int, stop_at: float, results: dict) -> None:
    """Draw, wait for the prediction, clear; repeat until stop_at."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    page = await context.new_page()
    record = results.setdefault(number, {"round_trips": [], "wrong": 0, "errors": 0, "failures": []})
    try:
        await page.goto(f"{url}/try_it", timeout=WAIT_MS)
        await expect(page.get_by_role("heading", name="Try it", exact=True)).to_be_visible(timeout=WAIT_MS)
        await settle(page)
        prediction = page.get_by_test_id("stMetric").filter(has_text="Prediction").get_by_test_id("stMetricValue")
        round_number = 0
        while time.monotonic() < stop_at:
            strokes, digit = (ONE, "1") if (round_number + number) % 2 == 0 else (SEVEN, "7")
            round_number += 1
            released = await draw(page, strokes)
            await page.get_by_text("Read from the whole drawing: 1 stroke.", exact=True).wait_for(timeout=WAIT_MS)
            record["round_trips"].append(time.monotonic() - released)
            await settle(page)
            if (await prediction.inner_text()).strip() != digit:
                record["wrong"] += 1
            record["errors"] += await errors_on(page)
            await page.get_by_role("button", name="Clear the drawing").click()
            await prediction.wait_for(state="detached", timeout=WAIT_MS)
            await settle(page)
    except Exception as error:  # a visitor stuck or broken is a result, not a crash of the benchmark
        record["failures"].append(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
        try:
            record["errors"] += await errors_on(page)
        except Exception:
            pass
    finally:
        await context.close()


async def trainer(browser, url: str, deadline_seconds: float, results: dict) -> None:
    """Start a tiny training job on the Train page and wait until it is saved."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1400, "height": 1300})
    page = await context.new_page()
    began = time.monotonic()
    results.update(started=False, completed=False, seconds=None, failure=None)
    try:
        await page.goto(f"{url}/train", timeout=WAIT_MS)
        await expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=WAIT_MS)
        await settle(page)
        await page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
        await page.get_by_role("option", name="Larger CNN (9 layers)").click()
        await expect(page.get_by_text("59,933 parameters")).to_be_visible(timeout=WAIT_MS)
        await settle(page)
        for label, value in {"Epochs": "2", "Training digits (of 60,000)": "1500", "Save as": JOB_NAME}.items():
            field = page.get_by_label(label, exact=True)
            await field.fill(value)
            await field.press("Enter")
            await settle(page)
        await page.get_by_role("button", name=re.compile("Train$")).click()
        results["started"] = True
        await expect(page.get_by_text(re.compile(rf"^Saved {JOB_NAME}: .* after 2 epoch"))).to_be_visible(
            timeout=deadline_seconds * 1000
        )
        results.update(completed=True, seconds=round(time.monotonic() - began, 1))
        results["errors"] = await errors_on(page)
    except Exception as error:
        results["failure"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        await context.close()


async def drive(url: str, visitors: int, seconds: float, training_seconds: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # Warm-up (not measured): the first run imports TensorFlow and loads the model.
        warm_began = time.monotonic()
        await visitor(browser, url, -1, time.monotonic() + 1, warm := {})
        warm_up = {"seconds": round(time.monotonic() - warm_began, 1), "failures": warm[-1]["failures"]}
        training: dict = {}
        job = asyncio.create_task(trainer(browser, url, training_seconds, training))
        visitors_began, wall_began = time.monotonic(), time.time()
        results: dict = {}
        await asyncio.gather(
            *(visitor(browser, url, number, visitors_began + seconds, results) for number in range(visitors))
        )
        visitors_seconds = time.monotonic() - visitors_began
        await job
        await browser.close()
    return {
        "warm_up": warm_up,
        "training": training,
        "results": results,
        "visitors_seconds": visitors_seconds,
        "wall_began": wall_began,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120, help="how long the visitors keep drawing")
    parser.add_argument("--training-seconds", type=float, default=300, help="ceiling for the training job")
    parser.add_argument("--models", type=Path, default=ROOT / "models", help="copied to a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (models, server log)")
    arguments = parser.parse_args()
    if not 1 <= arguments.visitors <= 50 or not 5 <= arguments.seconds <= 900:
        raise ValueError("Use 1 to 50 visitors and 5 to 900 seconds.")

    load_before = os.getloadavg()
    with served_app(arguments.models, keep=arguments.keep) as (url, server, models):
        outcome = asyncio.run(drive(url, arguments.visitors, arguments.seconds, arguments.training_seconds))
        server_peak = peak_rss_mb(server.pid)
        saved = models / f"{JOB_NAME}.keras"
        saved_at = saved.stat().st_mtime if saved.is_file() else None
        log_path = models.parent / "server.log"
    round_trips = [value for record in outcome["results"].values() for value in record["round_trips"]]
    records = outcome["results"].values()
    print(
        json.dumps(
            {
                "visitors": arguments.visitors,
                "seconds": arguments.seconds,
                "predictions": len(round_trips),
                "predictions_per_second": round(len(round_trips) / outcome["visitors_seconds"], 2),
                "round_trip_seconds": {
                    "p50": percentile(round_trips, 0.5),
                    "p95": percentile(round_trips, 0.95),
                    "max": round(max(round_trips), 3) if round_trips else None,
                },
                "visitor_errors": sum(record["errors"] for record in records),
                "visitors_stuck_or_failed": [
                    f"{number}: {failure}"
                    for number, record in outcome["results"].items()
                    for failure in record["failures"]
                ],
                "wrong_digits": sum(record["wrong"] for record in records),
                "training": outcome["training"],
                "training_saved_on_disk": saved_at is not None,
                # when the job's model file landed, counted from the start of the visitors (the page may lag)
                "training_saved_after_seconds": None
                if saved_at is None
                else round(saved_at - outcome["wall_began"], 1),
                "warm_up": outcome["warm_up"],
                "server_peak_rss_mb": server_peak,
                "load_average_before": [round(value, 2) for value in load_before],
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
                "machine": machine(),
                "server_log": str(log_path) if arguments.keep else "(removed; --keep keeps it)",
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
