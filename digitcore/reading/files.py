"""Reading image files on disk, one answer per file: what `python -m digitcore predict` prints.

A file is read up to the upload limit (never more into memory), decoded and read as Try it reads
an upload (digitcore.reading.digit), the not-a-digit guard's verdict given with the answer. A file
that cannot be read gives an error answer and the others still run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from digitcore.reading import digit, preprocess


def predict_files(model, paths: Iterable[str | Path], kind: str = "auto") -> Iterator[dict]:
    """One dict per file, in order: {"file", "digit", "confidence", "probabilities", "not_a_digit",
    "not_a_digit_score"} or {"file", "error"}. "not_a_digit" is true when the input is probably not one
    digit (a letter, a symbol, a scribble, several digits: see not_a_digit.py), null if that check is
    not installed.

    A file that cannot be read, is not an image, or shows no digit gets an error dict; the rest run.
    """
    for path in paths:
        name = str(path)
        try:
            data = read_capped(Path(path))
            reading = digit.read_digit(preprocess.decode(data), model, kind=kind)
        except preprocess.ImageError as error:
            yield {"file": name, "error": str(error)}
            continue
        except OSError as error:
            yield {"file": name, "error": f"Cannot read the file: {error.strerror or error}."}
            continue
        result = reading.prediction
        answer = {
            "file": name,
            "digit": result.digit,
            "confidence": round(result.confidence, 6),
            "probabilities": [round(p, 6) for p in result.probabilities],
        }
        if reading.not_a_digit_score is None:
            answer.update(not_a_digit=None)  # the guard is not installed: unknown, never a silent "it is a digit"
        else:
            # the digit is still given: a caller decides what a doubtful answer is worth
            answer.update(not_a_digit=reading.doubtful, not_a_digit_score=round(reading.not_a_digit_score, 6))
        yield answer


def read_capped(path: Path) -> bytes:
    """The file's bytes, refusing to read more than the upload limit into memory."""
    if path.is_dir():
        raise preprocess.NotAnImage(f"{path.name} is a folder, not an image file.")
    with open(path, "rb") as handle:
        data = handle.read(preprocess.MAX_UPLOAD_BYTES + 1)
    if len(data) > preprocess.MAX_UPLOAD_BYTES:
        raise preprocess.FileTooLarge(
            f"The file is larger than {preprocess.MAX_UPLOAD_BYTES / 2**20:.0f} MB. "
            "Crop the photo around the digit or save it at a lower resolution."
        )
    return data
