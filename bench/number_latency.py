"""How long reading a 4-digit photo takes: decode and digitcore.reading.number.read_number, p50 and p95.

The photos are bench/latency.py's: 640x480 JPEGs of four MNIST test digits on grainy, tilted ruled
paper. With --against REV the number reader as it was at git revision REV (its number.py and
segment.py, over today's page stage) is timed in the same run, call for call alternating with
today's, so that the ratio holds on a machine shared with other work.

    DIGITCORE_DATA_DIR=data/mnist python bench/number_latency.py [--calls 200] [--against HEAD~1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from latency import _paper_photos  # noqa: E402


def _module_at(revision: str, name: str, folder: Path) -> ModuleType:
    """digitcore/reading/NAME.py as it was at `revision`, loaded as its own module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:digitcore/reading/{name}.py"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = folder / f"{name}_at_{revision.replace('~', '_').replace('/', '_')}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def reader_at(revision: str):
    """read_number as it was at `revision`: its number.py bound to its segment.py."""
    with tempfile.TemporaryDirectory() as folder:
        old_segment = _module_at(revision, "segment", Path(folder))
        today = sys.modules["digitcore.reading.segment"]
        sys.modules["digitcore.reading.segment"] = old_segment  # the old number.py imports the old segment.py
        try:
            old_number = _module_at(revision, "number", Path(folder))
        finally:
            sys.modules["digitcore.reading.segment"] = today
    return old_number.read_number


def _percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(seconds, q)) * 1000.0, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--calls", type=int, default=200, help="timed readings of each reader (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed readings first (default 10)")
    parser.add_argument("--against", help="also time the number reader of this git revision, alternating")
    args = parser.parse_args(argv)

    import digitcore

    digitcore.import_tensorflow_quietly()
    from digitcore import data, registry
    from digitcore.reading import preprocess
    from digitcore.reading.number import read_number

    model_path = registry.resolve(args.model, args.models_dir)
    model = registry.load(model_path)
    _, numbers = _paper_photos(data.load_mnist(), np.random.default_rng(0))
    readers = {"today": read_number}
    if args.against:
        readers[args.against] = reader_at(args.against)
    times: dict[str, list[float]] = {name: [] for name in readers}
    for n in range(args.warmup):
        for reader in readers.values():
            reader(preprocess.decode(numbers[n % len(numbers)]), model)
    for n in range(args.calls):
        for name, reader in readers.items():
            started = time.perf_counter()
            reader(preprocess.decode(numbers[n % len(numbers)]), model)
            times[name].append(time.perf_counter() - started)
    report: dict = {
        "model": str(model_path),
        "input": "640x480 JPEG photo of a 4-digit number on ruled paper",
        "calls": args.calls,
    }
    for name, seconds in times.items():
        report[name] = {"p50_ms": _percentile_ms(seconds, 50), "p95_ms": _percentile_ms(seconds, 95)}
    if args.against:
        report["p50_ratio_today_to_against"] = round(
            float(np.median(times["today"]) / np.median(times[args.against])), 3
        )
    report["target_p50_ms"] = 60.0
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
