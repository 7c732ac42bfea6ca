"""Benchmark: a class on one server (JSON out). K visitors, each in a workspace of their own, save a few
digits and press Train at about the same moment; the jobs go through the app's JobManager, its fair
queue and an embedded Dask cluster of W workers, as on the Train page.

So that K = 30 fits in minutes on 2 cores, each visitor's job is a tiny one: DigitNet's fast recipe
cut to `--epochs` epoch(s) on a `--limit`-digit subset (the page's default click is all 60,000 digits;
bench/train_click.py measures that one). A job still loads MNIST on its worker, trains, scores the
10,000 test digits and sends its model back to be saved, so the queue's numbers are a real class's
in shape, with shorter jobs.

Per K: jobs finished and lost (must be 0), the most jobs running at once, queue waits (p50/p95,
from the click to a worker taking the job), the time for the whole class, cross-workspace leaks
(must be 0: each workspace holds exactly its own digits and its own model, and shows only its own
job), and the server's CPU per stroke (decode + preprocess + the default model's call, in the
server's thread) while the class trains, against the same strokes with no job running.

    python bench/class.py [--visitors 1 10 30] [--workers 2] [--limit 1000] [--epochs 1] [--strokes 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/handwriting.py

import digitcore  # noqa: E402

digitcore.import_tensorflow_quietly()

import numpy as np  # noqa: E402
from handwriting import render_drawing  # noqa: E402

from digitcore import data, inference, jobs, registry, samples, workspaces  # noqa: E402
from digitcore.architectures import DEFAULT_PRESET, get_preset  # noqa: E402
from digitcore.reading import preprocess  # noqa: E402

DIGITS_PER_VISITOR = 5
WAIT_SECONDS = 3600  # a ceiling for one class, never an assertion about speed


def percentile(values: list[float], share: float) -> float | None:
    return None if not values else round(float(np.percentile(values, 100 * share)), 2)


def stroke_costs(model, canvases: list, pause: float) -> tuple[list[float], list[float]]:
    """The server thread's CPU and wall milliseconds per stroke: preprocess the canvas and classify it."""
    cpu, wall = [], []
    for canvas in canvases:
        started_cpu, started_wall = time.thread_time(), time.perf_counter()
        inference.classify(model, preprocess.to_mnist(canvas).image)
        cpu.append(1000 * (time.thread_time() - started_cpu))
        wall.append(1000 * (time.perf_counter() - started_wall))
        time.sleep(pause)
    return cpu, wall


def run_class(visitors: int, manager: jobs.JobManager, root: Path, mnist: data.Mnist, args, model, canvases) -> dict:
    rng = np.random.default_rng(visitors)
    recipe = get_preset(DEFAULT_PRESET).recipes["fast"].with_overrides(epochs=args.epochs)
    people = [workspaces.parse(f"visitor-{visitors}-{number:02d}", root) for number in range(visitors)]
    own_digits = {}
    for person in people:
        picks = rng.choice(len(mnist.x_test), DIGITS_PER_VISITOR, replace=False)
        store = samples.SampleStore(person.samples_path)
        for index in picks:
            store.add(mnist.x_test[index], int(mnist.y_test[index]))
        own_digits[person.key] = sorted(mnist.x_test[index].tobytes() for index in picks)
    most_running, sampling = 0, True

    def sample() -> None:
        nonlocal most_running
        while sampling:
            most_running = max(most_running, manager.view().running)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process_cpu = time.process_time()
    clicked = time.perf_counter()
    for person in people:
        manager.start(DEFAULT_PRESET, name=f"model_{person.key}", recipe=recipe, limit=args.limit, workspace=person)
    time.sleep(min(10.0, 2.0 * visitors))  # strokes while the workers train, not while they load
    busy_cpu, busy_wall = stroke_costs(model, canvases, pause=0.25)
    finals = [manager.wait(WAIT_SECONDS, workspace=person) for person in people]
    whole_class = time.perf_counter() - clicked
    sampling = False
    sampler.join()
    supervision_cpu = time.process_time() - process_cpu
    leaks = 0
    for person, final in zip(people, finals):
        stored = sorted(sample.input.tobytes() for sample in samples.SampleStore(person.samples_path).list())
        models = [entry.name for entry in registry.list_models(person.models_dir)]
        leaks += stored != own_digits[person.key]
        leaks += models != ([f"model_{person.key}"] if final.state == "done" else [])
        leaks += final.workspace != person.key or final.name != f"model_{person.key}"
    waits = [final.queue_wait for final in finals if final.queue_wait is not None]
    return {
        "visitors": visitors,
        "jobs_finished": sum(final.state == "done" for final in finals),
        "jobs_lost": sum(final.state != "done" for final in finals),
        "errors": sorted({final.error for final in finals if final.error}),
        "max_concurrent_jobs": most_running,
        "queue_wait_p50_seconds": percentile(waits, 0.5),
        "queue_wait_p95_seconds": percentile(waits, 0.95),
        "job_seconds_on_worker_median": round(
            statistics.median(final.finished_at - final.dispatched_at for final in finals if final.dispatched_at), 1
        ),
        "whole_class_seconds": round(whole_class, 1),
        "cross_workspace_leaks": leaks,
        "server_cpu_ms_per_stroke_while_training_median": round(statistics.median(busy_cpu), 1),
        "stroke_wall_ms_while_training_median": round(statistics.median(busy_wall), 1),
        "server_cpu_seconds_whole_class": round(supervision_cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--workers", type=int, default=2, help="workers of the embedded cluster")
    parser.add_argument("--limit", type=int, default=1000, help="training digits per job")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--strokes", type=int, default=20, help="strokes timed while idle and while training")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="class-bench-"))
    mnist = data.load_mnist()
    model = registry.load(None)  # the default shipped model, as Try it uses
    rng = np.random.default_rng(0)
    canvases = [render_drawing(mnist.x_test[index], rng) for index in range(args.strokes)]
    stroke_costs(model, canvases[:3], pause=0.0)  # the model's first calls build its graph
    idle_cpu, idle_wall = stroke_costs(model, canvases, pause=0.05)
    manager = jobs.JobManager(root / "shipped", cluster=jobs.Cluster(workers=args.workers))
    started = time.perf_counter()
    capacity = manager.cluster.capacity()
    cluster_start = time.perf_counter() - started
    results = [
        run_class(visitors, manager, root / "workspaces", mnist, args, model, canvases) for visitors in args.visitors
    ]
    manager.close()
    print(
        json.dumps(
            {
                "workers": capacity,
                "cores": os.cpu_count(),
                "job": f"{DEFAULT_PRESET} fast recipe, {args.epochs} epoch(s) on {args.limit} digits",
                "cluster_start_seconds": round(cluster_start, 1),
                "server_cpu_ms_per_stroke_idle_median": round(statistics.median(idle_cpu), 1),
                "stroke_wall_ms_idle_median": round(statistics.median(idle_wall), 1),
                "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
                "classes": results,
                # the keys of the largest class, at the top level as the issue names them
                **{
                    key: results[-1][key]
                    for key in ("max_concurrent_jobs", "jobs_finished", "jobs_lost", "cross_workspace_leaks")
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
