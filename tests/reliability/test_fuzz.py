"""Fuzzing the image decoder and preprocessing: only ImageError subclasses escape, fast, in bounded memory."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from digitcore.reading import preprocess

WORKER = Path(__file__).with_name("fuzz_worker.py")
FUZZ_SECONDS = 12  # the whole search (random each run, so CI's runs add up); each example is also held to hypothesis's 2 s deadline
MEMORY_CAP_MB = 1536  # address-space cap of the fuzzing process (numpy + Pillow need ~400 MB of it)
# Resident memory the whole search may reach: 67-86 MB measured. Lower than the cap, so a decoder that
# holds a few hundred MB of pixels fails here, where the cap alone (which only turns a far bigger
# allocation into a MemoryError) would let it through.
PEAK_RSS_BOUND_MB = 512


@pytest.mark.slow
def test_mutated_png_jpeg_gif_only_raise_image_errors():
    """Thousands of flipped, inserted, deleted and truncated PNG/JPEG/GIF bytes: every one either
    gives a 28x28 digit or a documented ImageError; none hangs, and memory stays far below the cap."""
    finished = subprocess.run(
        [sys.executable, str(WORKER), str(FUZZ_SECONDS), str(MEMORY_CAP_MB)],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 90,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(finished.stdout)
    assert report["failure"] is None, report["failure"]
    # Any escaping exception is a bug (the thin-JPEG ZeroDivisionError the fuzzer found is fixed
    # and pinned by the test below).
    assert report["escaped"] == [], json.dumps(report["escaped"], indent=1)[:6000]
    # The mutations must reach every outcome, or the fuzzer is not exercising the decoder; headers
    # claiming a huge image (about 1 % of the inputs) must meet the pixel cap, not a MemoryError.
    assert report["examples"] > 1000, report
    assert {"ok", "NotAnImage", "TruncatedImage", "ImageTooLarge"} <= set(report["outcomes"]), report["outcomes"]
    assert report["peak_rss_mb"] < PEAK_RSS_BOUND_MB, report


def jpeg_with_size(width: int, height: int) -> bytes:
    """A valid 40x40 JPEG whose frame header (SOF0) claims `width` x `height` pixels."""
    buffer = io.BytesIO()
    Image.new("L", (40, 40), 0).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc0")  # SOF0: marker, length (2), precision (1), height (2), width (2)
    data[frame + 5 : frame + 7] = height.to_bytes(2, "big")
    data[frame + 7 : frame + 9] = width.to_bytes(2, "big")
    return bytes(data)


@pytest.mark.parametrize(
    "width, height",
    [
        (40, 65320),  # found by the fuzzer: a tall, thin JPEG; the draft size rounds down to 0 pixels wide
        (65320, 40),  # the same, lying on its side
    ],
)
def test_very_thin_jpeg_gives_an_image_error(width, height):
    """A JPEG far taller than wide is refused with an ImageError (or decoded), never ZeroDivisionError."""
    try:
        preprocess.to_mnist(preprocess.decode(jpeg_with_size(width, height)))
    except preprocess.ImageError:
        pass
