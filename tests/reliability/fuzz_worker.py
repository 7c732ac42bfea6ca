"""Fuzz decode -> to_mnist over mutated PNG/JPEG/GIF bytes, in a memory-capped child process.

Run as `python fuzz_worker.py SECONDS MEMORY_MB`; prints one JSON object: examples run, the error
types seen, any escaping exception (type, message, input as hex) and the peak resident memory.
"""

import io
import json
import re
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for digitcore


def seed_images() -> dict[str, bytes]:
    """Small valid images, one per format, holding a digit-like stroke (so to_mnist has work to do)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (40, 40), 0)
    ImageDraw.Draw(image).line([(20, 6), (20, 34)], fill=255, width=4)
    seeds = {}
    for name, source in (("PNG", image), ("JPEG", image), ("GIF", image.convert("P"))):
        buffer = io.BytesIO()
        source.save(buffer, format=name)
        seeds[name] = buffer.getvalue()
    return seeds


def _peak_rss_kb() -> int:
    """This process's own peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries
    that across fork and exec, so it would report the parent's (pytest's) peak, not the fuzzer's."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))


def main(seconds: float, memory_mb: int) -> None:
    # Cap the address space: a decoder that tries to allocate a bomb fails with MemoryError here
    # instead of taking the machine down; such a MemoryError escaping would be reported as a failure.
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from digitcore.reading import preprocess

    seeds = seed_images()
    seen: dict[str, int] = {}
    escaped: list[dict] = []
    slowest = [0.0]
    start = time.monotonic()

    @st.composite
    def mutated(draw) -> bytes:
        """A seed image with a few byte flips, inserts, deletes and an optional truncation."""
        data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
        for _ in range(draw(st.integers(0, 8))):
            operation = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
            position = draw(st.integers(0, max(len(data) - 1, 0)))
            if operation == "flip" and data:
                data[position] ^= 1 << draw(st.integers(0, 7))
            elif operation == "set" and data:
                data[position] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
            elif operation == "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=16))
            elif operation == "delete" and data:
                del data[position : position + draw(st.integers(1, 16))]
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    @settings(
        max_examples=500, deadline=2000, database=None, derandomize=False, suppress_health_check=list(HealthCheck)
    )
    @given(data=mutated(), kind=st.sampled_from(preprocess.KINDS))
    def decode_then_preprocess(data: bytes, kind: str) -> None:
        if time.monotonic() - start > seconds:
            return  # the time budget is spent: the remaining examples are no-ops
        began = time.monotonic()
        try:
            preprocess.to_mnist(preprocess.decode(data), kind=kind)
        except preprocess.ImageError as error:
            seen[type(error).__name__] = seen.get(type(error).__name__, 0) + 1
        except BaseException as error:  # anything else is a bug: record it, then fail the example
            # Recorded rather than raised, so one known bug does not end the search for others.
            escaped.append(
                {
                    "type": type(error).__name__,
                    "message": str(error)[:300],
                    "kind": kind,
                    "input_hex": data[:4000].hex(),
                    "traceback": traceback.format_exc()[-1500:],
                }
            )
        else:
            seen["ok"] = seen.get("ok", 0) + 1
        slowest[0] = max(slowest[0], time.monotonic() - began)

    failure = None
    while failure is None and time.monotonic() - start < seconds:
        try:
            decode_then_preprocess()  # one batch of max_examples; repeated until the budget is spent
        except BaseException as error:  # e.g. hypothesis's DeadlineExceeded for a slow example
            failure = f"{type(error).__name__}: {str(error)[:500]}"
    peak_kb = _peak_rss_kb()
    print(
        json.dumps(
            {
                "examples": sum(seen.values()),
                "outcomes": seen,
                "escaped_count": len(escaped),
                "escaped": escaped[:5],
                "failure": failure,
                "slowest_seconds": round(slowest[0], 3),
                "elapsed_seconds": round(time.monotonic() - start, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "memory_cap_mb": memory_mb,
            }
        )
    )


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]))
