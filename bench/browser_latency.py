"""Mouse-up to prediction on Try it, one visitor in a real Chromium, and the server's CPU per stroke; prints JSON.

Starts the app over a temporary copy of the shipped models, opens Try it, and draws multi-stroke
digits with the mouse at a person's pace (a pause between strokes), clearing between digits with
the pad's own Clear. For every stroke it measures, inside the page, the time from the pointerup
event to the moment the page shows a prediction read from that many strokes, and reads the
server's CPU time from /proc around the stroke. A digit whose final reading counts fewer strokes
than were drawn, or reads another digit, is reported as lost.

    .venv/bin/python bench/browser_latency.py [--rounds 4] [--pause 0.3] [--models models]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when run as `python -m digitcore bench ...`
from served_app import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu_seconds, machine, percentile, served_app  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "app"))
from app_helpers import MULTI_STROKE_DIGITS  # noqa: E402 (the strokes the browser tests draw too)

WAIT_MS = 60_000  # a ceiling for one wait; a reading that never comes counts as a lost stroke

INSTRUMENT = """() => {
    window.__strokeUps = [];
    window.addEventListener("pointerup", () => window.__strokeUps.push(performance.now()), true);
}"""
# Resolves when a caption says the reading used `count` strokes; returns ms since the last pointerup.
SHOWN_AFTER = """(count) => {
    const wanted = `Read from the whole drawing: ${count} stroke${count === 1 ? "" : "s"}.`;
    const shown = [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
        .some((caption) => caption.innerText.trim() === wanted);
    const metric = document.querySelector("[data-testid='stMetric']");
    if (!shown || !metric) return null;
    return performance.now() - window.__strokeUps[window.__strokeUps.length - 1];
}"""


def settle(page) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", state="attached", timeout=WAIT_MS
    )


def stroke(page, box: dict, points: list[tuple[int, int]]) -> None:
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=12)  # about 12 pointer moves per segment
    page.mouse.up()


def predicted_digit(page) -> str:
    return (
        page.locator("[data-testid='stMetric']")
        .filter(has_text="Prediction")
        .locator("[data-testid='stMetricValue']")
        .inner_text()
        .strip()
    )


def measure(url: str, server_pid: int, rounds: int, pause: float) -> dict:
    from playwright.sync_api import sync_playwright

    latencies_ms, cpu_ms, lost, wrong, digits = [], [], [], [], 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(url + "/try_it")
        pad = page.get_by_test_id("drawing-pad")
        pad.wait_for(timeout=WAIT_MS)
        settle(page)
        page.evaluate(INSTRUMENT)
        box = pad.bounding_box()
        stroke(page, box, [(140, 40), (140, 240)])  # warm-up: the first reading loads the model
        page.wait_for_function(SHOWN_AFTER, arg=1, timeout=WAIT_MS)
        settle(page)
        for round_number in range(rounds):
            offset = 8 * (round_number % 3) - 8  # each round a few pixels elsewhere: never a cached drawing
            for name, (digit, strokes) in MULTI_STROKE_DIGITS.items():
                page.get_by_role("button", name="Clear the drawing").click()
                page.get_by_text("Draw a digit on the canvas").wait_for(timeout=WAIT_MS)
                settle(page)
                digits += 1
                for count, points in enumerate(strokes, start=1):
                    before = cpu_seconds(server_pid)
                    stroke(page, box, [(x + offset, y + offset) for x, y in points])
                    try:
                        latencies_ms.append(
                            page.wait_for_function(SHOWN_AFTER, arg=count, timeout=WAIT_MS).json_value()
                        )
                    except Exception:  # the reading of this stroke never came: it was lost
                        lost.append(f"{name}: stroke {count}")
                    if count < len(strokes):
                        time.sleep(pause)  # a person's pause between strokes; the server may still be busy
                    else:
                        settle(page)
                    cpu_ms.append(1000 * (cpu_seconds(server_pid) - before))
                if predicted_digit(page) != str(digit):
                    wrong.append(f"{name}: read {predicted_digit(page)}")
        browser.close()
    return {
        "strokes": len(latencies_ms) + len(lost),
        "digits": digits,
        "strokes_lost": len(lost),
        "lost": lost,
        "digits_read_wrong": wrong,
        "mouse_up_to_prediction_ms": {
            "p50": percentile(latencies_ms, 0.5),
            "p95": percentile(latencies_ms, 0.95),
            "max": round(max(latencies_ms), 1) if latencies_ms else None,
        },
        "server_cpu_ms_per_stroke": {"p50": percentile(cpu_ms, 0.5), "mean": round(sum(cpu_ms) / len(cpu_ms), 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="times each multi-stroke digit is drawn")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between the strokes of one digit")
    parser.add_argument("--models", type=Path, default=ROOT / "models", help="models folder to serve (copied)")
    args = parser.parse_args(argv)
    with served_app(args.models) as (url, server, _):
        result = measure(url, server.pid, args.rounds, args.pause)
    result.update(
        {
            "benchmark": "browser_latency",
            "pause_seconds": args.pause,
            "targets": {"p50_ms": 300, "p95_ms": 600},
            "machine": machine(),
        }
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
