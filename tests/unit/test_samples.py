"""The user's own digits: SQLite store round trip, concurrent writers, export/import, hostile zips."""

import io
import multiprocessing
import zipfile

import numpy as np
import pytest
from PIL import Image

from digitcore import samples


def _digit(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12 + value % 3] = 255
    return image


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_round_trip_through_the_store_and_a_zip(tmp_path):
    store = samples.SampleStore(tmp_path / "a.sqlite3")
    photo = Image.new("RGB", (1200, 900), "white")
    first = store.add(_digit(7), 7, source="photo", original=photo, predicted=1, confidence=0.61, model="digitnet")
    store.add(_digit(3).astype(np.float32) / 255, 3, source="canvas")
    listed = store.list(with_originals=True)
    assert [s.label for s in listed] == [7, 3] and listed[0].id == first
    assert np.array_equal(listed[0].input, _digit(7)) and np.array_equal(listed[1].input, _digit(3))
    assert listed[0].predicted == 1 and listed[0].model == "digitnet"
    assert max(Image.open(io.BytesIO(listed[0].original_png)).size) <= samples.ORIGINAL_MAX_SIDE
    x, y = store.arrays()
    assert x.shape == (2, 28, 28) and y.tolist() == [7, 3]

    other = samples.SampleStore(tmp_path / "b.sqlite3")
    assert other.import_zip(store.export_zip()) == 2
    copied = other.list(with_originals=True)
    assert [s.label for s in copied] == [7, 3] and np.array_equal(copied[0].input, _digit(7))
    assert copied[0].original_png == listed[0].original_png and copied[0].source == "photo"
    assert store.delete(first) and not store.delete(first) and store.count() == 1


def test_importing_the_same_zip_twice_adds_nothing_the_second_time(tmp_path):
    store = samples.SampleStore(tmp_path / "a.sqlite3")
    store.add(_digit(7), 7)
    store.add(_digit(7), 1)  # the same picture with another label is another example
    store.add(_digit(4), 4)
    exported = store.export_zip()
    other = samples.SampleStore(tmp_path / "b.sqlite3")
    other.add(_digit(4), 4)  # already there before the import
    assert other.import_report(exported) == samples.ImportReport(added=2, already_stored=1)
    assert other.import_report(exported) == samples.ImportReport(added=0, already_stored=3)
    assert other.import_zip(exported) == 0 and other.count() == 3
    assert sorted(sample.label for sample in other.list()) == [1, 4, 7]


def test_saving_the_same_digit_twice_keeps_it_once(tmp_path):
    store = samples.SampleStore(tmp_path / "a.sqlite3")
    first = store.save(_digit(7), 7, source="canvas")
    again = store.save(_digit(7), 7, source="canvas")  # "Save as example" pressed twice
    assert first == samples.SaveReport(sample_id=first.sample_id, added=True)
    assert again == samples.SaveReport(sample_id=first.sample_id, added=False)
    assert store.add(_digit(7), 7) == first.sample_id and store.count() == 1
    assert store.save(_digit(7), 1).added and store.count() == 2  # another label: another example


def test_a_zip_repeating_an_example_restores_it_once_and_says_so(tmp_path):
    """Issue 28: an empty store importing a zip whose two examples are one drawing was told that one
    was 'already in your digits'. It was a repeat inside the zip, and the report says which it was."""
    entries = {"inputs/1.png": _png(_digit(7)), "inputs/2.png": _png(_digit(7)), "inputs/3.png": _png(_digit(4))}
    table = b"label,input_file\n7,inputs/1.png\n7,inputs/2.png\n4,inputs/3.png\n"
    empty = samples.SampleStore(tmp_path / "a.sqlite3")
    report = empty.import_report(_zip({"samples.csv": table, **entries}))
    assert report == samples.ImportReport(added=2, already_stored=0, repeated_in_zip=1)
    assert empty.count() == 2 and report.skipped == 1


@pytest.mark.parametrize(
    "image, label, message",
    [
        (np.zeros((28, 28), np.uint8), 10, "digit from 0 to 9"),  # label out of range
        (np.zeros((28, 28), np.uint8), 2.5, "digit from 0 to 9"),  # not an integer
        (np.zeros((27, 28), np.uint8), 1, "28x28"),  # wrong size
        (np.full((28, 28), 2.0, np.float32), 1, r"\[0, 1\]"),  # floats out of range
    ],
)
def test_bad_samples_are_refused(tmp_path, image, label, message):
    store = samples.SampleStore(tmp_path / "s.sqlite3")
    with pytest.raises(ValueError, match=message):
        store.add(image, label)
    assert store.count() == 0


def _writer(path: str, label: int, count: int) -> None:
    store = samples.SampleStore(path)
    for number in range(count):
        image = _digit(label)
        image[0, 0] = number  # each one different: the store keeps a repeated digit once
        store.add(image, label)


def test_two_writers_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    samples.SampleStore(path)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(path, label, 40)) for label in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    labels = samples.SampleStore(path).arrays()[1]
    assert (labels == 1).sum() == 40 and (labels == 2).sum() == 40


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_CSV = b"label,input_file\n4,inputs/1.png\n"


@pytest.mark.parametrize(
    "blob, message",
    [
        (b"this is not a zip", "not a zip archive"),  # a text file
        (_zip({"inputs/1.png": _png(_digit(4))}), "no samples.csv"),  # CSV missing
        (_zip({"samples.csv": b"digit,file\n4,inputs/1.png\n"}), "lacks the column"),  # wrong columns
        (_zip({"samples.csv": b"\xff\xfe\x00bad"}), "UTF-8"),  # not text
        (_zip({"samples.csv": GOOD_CSV}), "not in the zip"),  # CSV names a missing file
        (
            _zip({"samples.csv": b"label,input_file\nseven,inputs/1.png\n", "inputs/1.png": _png(_digit(4))}),
            "not a digit",
        ),  # bad label
        (
            _zip({"samples.csv": b"label,input_file\n4,../../escape.png\n", "../../escape.png": _png(_digit(4))}),
            "unsafe file name",
        ),  # path traversal
        (
            _zip({"samples.csv": b"label,input_file\n4,/etc/x.png\n", "/etc/x.png": _png(_digit(4))}),
            "unsafe file name",
        ),  # absolute path
        (_zip({"samples.csv": GOOD_CSV, "inputs/1.png": b"\x89PNG not really"}), "not a readable PNG"),  # broken PNG
        (_zip({"samples.csv": GOOD_CSV, "inputs/1.png": _png(np.zeros((30, 30), np.uint8))}), "28x28"),  # wrong size
        (
            _zip({"samples.csv": GOOD_CSV, "inputs/1.png": _png(_digit(4)), "bomb.bin": bytes(3 * 2**20)}),
            "zip bomb",
        ),  # 3 MB of zeros compress to a few KB
    ],
)
def test_hostile_or_malformed_zips_are_refused_and_write_nothing(tmp_path, blob, message):
    store = samples.SampleStore(tmp_path / "s.sqlite3")
    store.add(_digit(1), 1)
    with pytest.raises(samples.SampleImportError, match=message):
        store.import_zip(blob)
    assert store.count() == 1


def test_a_zip_with_one_bad_row_imports_nothing(tmp_path):
    store = samples.SampleStore(tmp_path / "s.sqlite3")
    blob = _zip({"samples.csv": b"label,input_file\n4,inputs/1.png\n5,inputs/2.png\n", "inputs/1.png": _png(_digit(4))})
    with pytest.raises(samples.SampleImportError, match="inputs/2.png"):
        store.import_zip(blob)
    assert store.count() == 0
