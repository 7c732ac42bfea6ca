"""The user's own labelled digits in SQLite (WAL), with zip export and a guarded zip import."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import sqlite3
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from digitcore import limits, paths

SCHEMA_VERSION = 1
SOURCES = ("canvas", "photo", "import")
ORIGINAL_MAX_SIDE = 560  # originals are kept small: enough to show, not a photo archive
ORIGINAL_MAX_BYTES = 512 * 1024
# Import limits: a class's pooled samples fit easily; a zip bomb does not.
IMPORT_MAX_ZIP_BYTES = limits.MAX_UPLOAD_BYTES  # the one upload cap (limits.py); thousands of digits fit
IMPORT_MAX_ENTRIES = 20_000
IMPORT_MAX_TOTAL_BYTES = 200 * 1024 * 1024
IMPORT_MAX_ENTRY_BYTES = 2 * 1024 * 1024
IMPORT_MAX_RATIO = 200  # uncompressed / compressed size of one entry
CSV_NAME = "samples.csv"
CSV_FIELDS = ["label", "source", "created_at", "predicted", "confidence", "model", "input_file", "original_file"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    source TEXT NOT NULL CHECK (source IN ('canvas', 'photo', 'import')),
    created_at TEXT NOT NULL,
    input BLOB NOT NULL CHECK (length(input) = 784),  -- 28x28 uint8, white ink on black
    original BLOB,                                     -- PNG, size-capped
    predicted INTEGER CHECK (predicted IS NULL OR predicted BETWEEN 0 AND 9),
    confidence REAL,
    model TEXT
);
CREATE INDEX IF NOT EXISTS samples_label ON samples (label);
"""


class SampleImportError(ValueError):
    """A zip that cannot be imported; nothing was written."""


@dataclass
class Sample:
    id: int
    label: int
    source: str
    created_at: str
    input: np.ndarray  # (28, 28) uint8
    predicted: int | None
    confidence: float | None
    model: str | None
    original_png: bytes | None = None


def default_path() -> Path:
    """`DIGITCORE_SAMPLES_DB`, or data/samples.sqlite3 in the project (git-ignored; digitcore.paths)."""
    return paths.samples_db()


def _as_input_bytes(image: np.ndarray) -> bytes:
    image = np.asarray(image)
    if image.shape == (28, 28, 1):
        image = image[..., 0]
    if image.shape != (28, 28):
        raise ValueError(f"A sample's input must be a 28x28 image, not {image.shape}.")
    if image.dtype != np.uint8:
        if image.min() < 0 or image.max() > 1.0:
            raise ValueError("A float sample input must hold values in [0, 1].")
        image = np.round(image * 255).astype(np.uint8)
    return image.tobytes()


def _original_png(original) -> bytes | None:
    """A PNG of the original image, downscaled so it stays under the size cap."""
    if original is None:
        return None
    image = original if isinstance(original, Image.Image) else Image.fromarray(np.asarray(original))
    image = image.copy()
    image.thumbnail((ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE))
    for side in (ORIGINAL_MAX_SIDE, 280, 140):
        image.thumbnail((side, side))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= ORIGINAL_MAX_BYTES:
            return buffer.getvalue()
    return None


class SampleStore:
    """A SQLite file of labelled digits. Every call opens its own connection, so one store object
    may be shared by threads (Streamlit sessions), and two processes can write at once (WAL)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)  # idempotent; commits on its own
        finally:
            connection.close()
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} was written by a newer version of this app (schema {row[0]}); "
                    "update the app to open it."
                )

    @contextmanager
    def _connect(self):
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def add(self, image: np.ndarray, label: int, **details) -> int:
        """Store one labelled digit; returns its id (the stored one's when it is already there). The
        keyword `details` are save()'s."""
        return self.save(image, label, **details).sample_id

    def save(
        self,
        image: np.ndarray,
        label: int,
        *,
        source: str = "canvas",
        original=None,
        predicted: int | None = None,
        confidence: float | None = None,
        model: str | None = None,
        created_at: str | None = None,
    ) -> SaveReport:
        """Store one labelled digit unless the store already holds it (the duplicate rule of
        `_identity`, the same as an import's); says which it was."""
        row = self._row(image, label, source, original, predicted, confidence, model, created_at)
        with self._connect() as connection:
            existing = _stored_identities(connection, label=row[0]).get(_identity(row[0], row[3]))
            if existing is not None:
                return SaveReport(sample_id=existing, added=False)
            return SaveReport(sample_id=_insert(connection, row), added=True)

    @staticmethod
    def _row(image, label, source, original, predicted, confidence, model, created_at) -> tuple:
        if int(label) != label or not 0 <= int(label) <= 9:
            raise ValueError(f"A label must be a digit from 0 to 9, not {label!r}.")
        if source not in SOURCES:
            raise ValueError(f"Unknown source {source!r}; use one of {', '.join(SOURCES)}.")
        original_png = original if isinstance(original, bytes) else _original_png(original)
        created_at = created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return (
            int(label),
            source,
            created_at,
            _as_input_bytes(image),
            original_png,
            None if predicted is None else int(predicted),
            None if confidence is None else float(confidence),
            model,
        )

    def list(self, label: int | None = None, *, with_originals: bool = False) -> list[Sample]:
        columns = "id, label, source, created_at, input, predicted, confidence, model" + (
            ", original" if with_originals else ""
        )
        query, params = f"SELECT {columns} FROM samples", tuple[int, ...]()
        if label is not None:
            query, params = query + " WHERE label = ?", (int(label),)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", params).fetchall()
        return [
            Sample(
                row[0],
                row[1],
                row[2],
                row[3],
                np.frombuffer(row[4], np.uint8).reshape(28, 28),
                row[5],
                row[6],
                row[7],
                row[8] if with_originals else None,
            )
            for row in rows
        ]

    def delete(self, sample_id: int) -> bool:
        with self._connect() as connection:
            return connection.execute("DELETE FROM samples WHERE id = ?", (int(sample_id),)).rowcount == 1

    def count(self) -> int:
        with self._connect() as connection:
            return connection.execute("SELECT COUNT(*) FROM samples").fetchone()[0]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples as (x uint8 (n, 28, 28), y uint8 (n,)), for evaluation and fine-tuning."""
        samples = self.list()
        x = np.stack([s.input for s in samples]) if samples else np.zeros((0, 28, 28), np.uint8)
        return x, np.array([s.label for s in samples], dtype=np.uint8)

    # --- exchange ---------------------------------------------------------------------------

    def export_zip(self) -> bytes:
        """A zip of samples.csv plus inputs/<n>.png (28x28) and originals/<n>.png."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            table = io.StringIO()
            writer = csv.DictWriter(table, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for number, sample in enumerate(self.list(with_originals=True), start=1):
                input_file = f"inputs/{number:06d}.png"
                archive.writestr(input_file, _png_bytes(sample.input))
                original_file = ""
                if sample.original_png:
                    original_file = f"originals/{number:06d}.png"
                    archive.writestr(original_file, sample.original_png)
                writer.writerow(
                    {
                        "label": sample.label,
                        "source": sample.source,
                        "created_at": sample.created_at,
                        "predicted": "" if sample.predicted is None else sample.predicted,
                        "confidence": "" if sample.confidence is None else sample.confidence,
                        "model": sample.model or "",
                        "input_file": input_file,
                        "original_file": original_file,
                    }
                )
            archive.writestr(CSV_NAME, table.getvalue())
        return buffer.getvalue()

    def import_zip(self, blob: bytes) -> int:
        """Import a zip made by export_zip (or by hand in its format); returns the count added.
        See import_report: examples already in the store are skipped."""
        return self.import_report(blob).added

    def import_report(self, blob: bytes) -> ImportReport:
        """Import a zip made by export_zip (or by hand in its format). Everything is checked first;
        one problem anywhere raises SampleImportError and writes nothing.

        An example already in the store, or earlier in the same zip, is skipped (the duplicate rule
        of `_identity`, as for saving), so importing the same zip twice adds nothing the second time.
        """
        rows = [
            self._row(
                image,
                label,
                "import" if source not in SOURCES else source,
                original,
                predicted,
                confidence,
                model,
                created_at,
            )
            for image, label, source, original, predicted, confidence, model, created_at in _read_import(blob)
        ]
        with self._connect() as connection:
            stored = set(_stored_identities(connection))
            seen_in_zip: set[tuple[int, str]] = set()
            added = already_stored = repeated_in_zip = 0
            for row in rows:
                identity = _identity(row[0], row[3])
                if identity in stored:
                    already_stored += 1
                elif identity in seen_in_zip:
                    repeated_in_zip += 1
                else:
                    seen_in_zip.add(identity)
                    _insert(connection, row)
                    added += 1
        return ImportReport(added=added, already_stored=already_stored, repeated_in_zip=repeated_in_zip)


@dataclass(frozen=True)
class SaveReport:
    """What saving one digit did: its example's id, and whether it was added (False: already stored)."""

    sample_id: int
    added: bool


@dataclass(frozen=True)
class ImportReport:
    """What an import did: examples added, examples skipped because the store already held them, and
    examples skipped because the same zip held them once before (kept once)."""

    added: int
    already_stored: int = 0
    repeated_in_zip: int = 0

    @property
    def skipped(self) -> int:
        return self.already_stored + self.repeated_in_zip


def _identity(label: int, pixels: bytes) -> tuple[int, str]:
    """The one duplicate rule, for saving and importing alike: two examples are the same when their
    labels and their 784 input bytes are (the same picture under another label is another example)."""
    return int(label), hashlib.sha256(bytes(pixels)).hexdigest()


def _stored_identities(connection: sqlite3.Connection, label: int | None = None) -> dict[tuple[int, str], int]:
    """The identity of every stored example (of one label when given), with its id (the first one's
    when an older store holds copies)."""
    query, params = "SELECT id, label, input FROM samples", tuple[int, ...]()
    if label is not None:
        query, params = query + " WHERE label = ?", (int(label),)
    identities: dict[tuple[int, str], int] = {}
    for sample_id, stored_label, pixels in connection.execute(query + " ORDER BY id", params):
        identities.setdefault(_identity(stored_label, pixels), sample_id)
    return identities


def _insert(connection: sqlite3.Connection, row: tuple) -> int:
    cursor = connection.execute(
        "INSERT INTO samples (label, source, created_at, input, original, predicted, confidence, model) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    )
    return int(cursor.lastrowid or 0)


def _png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not (name.startswith(("/", "\\")) or "\\" in name or ":" in name or ".." in path.parts or name == "")


def _read_import(blob: bytes) -> list[tuple]:
    if len(blob) > IMPORT_MAX_ZIP_BYTES:
        raise SampleImportError(f"The zip is larger than {IMPORT_MAX_ZIP_BYTES // 2**20} MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except zipfile.BadZipFile:
        raise SampleImportError("This file is not a zip archive. Export samples from the app to get one.") from None
    with archive:
        members = archive.infolist()
        if len(members) > IMPORT_MAX_ENTRIES:
            raise SampleImportError(f"The zip has {len(members)} entries; at most {IMPORT_MAX_ENTRIES} are accepted.")
        total = 0
        by_name = {}
        for member in members:
            if not _safe_member_name(member.filename):
                raise SampleImportError(f"The zip holds an unsafe file name ({member.filename!r}).")
            if member.file_size > IMPORT_MAX_ENTRY_BYTES or (
                member.compress_size
                and member.file_size / member.compress_size > IMPORT_MAX_RATIO
                and member.file_size > 64 * 1024
            ):
                raise SampleImportError(f"{member.filename} expands too much to be a digit image (a zip bomb?).")
            total += member.file_size
            by_name[member.filename] = member
        if total > IMPORT_MAX_TOTAL_BYTES:
            raise SampleImportError("The zip expands to more than it could hold in digits (a zip bomb?).")
        if CSV_NAME not in by_name:
            raise SampleImportError(
                f"The zip has no {CSV_NAME}; it must hold one with columns {', '.join(CSV_FIELDS)}."
            )

        def read(name: str) -> bytes:
            member = by_name.get(name)
            if member is None:
                raise SampleImportError(f"{CSV_NAME} names {name!r}, which is not in the zip.")
            with archive.open(member) as handle:  # read at most the declared size plus one byte
                data = handle.read(IMPORT_MAX_ENTRY_BYTES + 1)
            if len(data) > IMPORT_MAX_ENTRY_BYTES:
                raise SampleImportError(f"{name} is larger than it claims (a zip bomb?).")
            return data

        try:
            text = read(CSV_NAME).decode("utf-8")
            table = list(csv.DictReader(io.StringIO(text)))
        except (UnicodeDecodeError, csv.Error) as error:
            raise SampleImportError(f"{CSV_NAME} is not a readable UTF-8 CSV file ({error}).") from None
        if not table:
            raise SampleImportError(f"{CSV_NAME} lists no samples.")
        missing = {"label", "input_file"} - set(table[0])
        if missing:
            raise SampleImportError(f"{CSV_NAME} lacks the column(s) {', '.join(sorted(missing))}.")
        rows = []
        for line, record in enumerate(table, start=2):
            try:
                label = int(record["label"])
                if not 0 <= label <= 9:
                    raise ValueError
            except (TypeError, ValueError):
                raise SampleImportError(
                    f"{CSV_NAME} line {line}: the label {record['label']!r} is not a digit 0-9."
                ) from None
            image = _decode_input(read(record["input_file"] or ""), record["input_file"])
            original = read(record["original_file"]) if record.get("original_file") else None
            if original is not None:
                _check_png(original, record["original_file"])
            predicted = _optional(record.get("predicted"), int, line, "predicted")
            confidence = _optional(record.get("confidence"), float, line, "confidence")
            rows.append(
                (
                    image,
                    label,
                    record.get("source") or "import",
                    original,
                    predicted,
                    confidence,
                    record.get("model") or None,
                    record.get("created_at") or None,
                )
            )
        return rows


def _optional(value, kind, line, column):
    if value in (None, ""):
        return None
    try:
        number = kind(value)
    except ValueError:
        raise SampleImportError(f"{CSV_NAME} line {line}: {column} {value!r} is not a number.") from None
    if column == "predicted" and not 0 <= number <= 9:
        raise SampleImportError(f"{CSV_NAME} line {line}: predicted {value!r} is not a digit 0-9.")
    return number


def _check_png(data: bytes, name: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG" or image.width * image.height > ORIGINAL_MAX_SIDE * ORIGINAL_MAX_SIDE * 4:
            raise SampleImportError(f"{name} is not a small PNG image.")
        image.load()
    except SampleImportError:
        raise
    except Exception:
        raise SampleImportError(f"{name} is not a readable PNG image.") from None
    return image


def _decode_input(data: bytes, name: str) -> np.ndarray:
    image = _check_png(data, name)
    if image.size != (28, 28):
        raise SampleImportError(f"{name} is {image.width}x{image.height}; sample inputs are 28x28.")
    return np.asarray(image.convert("L"), dtype=np.uint8)
