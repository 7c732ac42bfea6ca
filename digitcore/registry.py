"""The models/ folder: atomic save, safe load with checks, listing with model cards, the default."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import tempfile
import time
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from digitcore import cards, paths
from digitcore.cards import ModelCard

log = logging.getLogger(__name__)

INPUT_SHAPE = (None, 28, 28, 1)
OUTPUT_SHAPE = (None, 10)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, corrupt, tampered with, or of the wrong shape."""


class ModelSaveError(OSError):
    """Saving failed (disk full, folder read-only, ...); the previous model is unchanged."""


class ModelExists(ModelSaveError):
    """A model of that name appeared in the folder; it was not overwritten. str() says so."""


STALE_TEMPORARY_SECONDS = 15 * 60  # a live save takes seconds; older temporaries are leftovers of a crash


def recover(directory: Path | None = None) -> None:
    """Finish or undo saves a crash interrupted: a pending card whose checksum matches the model
    file now in place is moved over the old card; any other pending card is dropped."""
    directory = Path(directory) if directory is not None else models_dir()
    for pending in directory.glob(".tmp-*.card.json"):
        try:
            card = ModelCard.from_json(pending.read_text())
            model_path = directory / card.file
            if card.file and model_path.is_file() and sha256_of(model_path) == card.sha256:
                os.replace(pending, directory / f"{model_path.stem}.json")
            elif time.time() - pending.stat().st_mtime >= STALE_TEMPORARY_SECONDS:
                pending.unlink()
        except (OSError, ValueError, KeyError, TypeError):
            pending.unlink(missing_ok=True)


def remove_stale_temporaries(directory: Path | None = None, older_than: float = STALE_TEMPORARY_SECONDS) -> list[str]:
    """Delete `.tmp-*` files a killed save left behind; returns their names."""
    directory = Path(directory) if directory is not None else models_dir()
    removed = []
    now = time.time()
    recover(directory)
    for leftover in directory.glob(".tmp-*"):
        try:
            if now - leftover.stat().st_mtime >= older_than:
                leftover.unlink()
                removed.append(leftover.name)
        except OSError:
            pass
    return removed


def models_dir() -> Path:
    """`DIGITCORE_MODELS_DIR`, or models/ in the project (digitcore.paths)."""
    return paths.models_dir()


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name) or name.endswith(".keras") or name.endswith(".json"):
        raise ValueError(
            f"'{name}' is not a usable model name: use up to 64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit, without an extension."
        )
    return name


FINETUNED_SUFFIX = "_mine"  # a fine-tuned model is named <parent>_mine, then <parent>_mine_2, ...


def finetuned_name(parent: str, directory: Path | None = None) -> str:
    """The first free name for a model fine-tuned from `parent` (the one rule for app and CLI)."""
    return free_name(f"{parent}{FINETUNED_SUFFIX}", directory)


def free_name(base: str, directory: Path | None = None, *, taken: Collection[str] = ()) -> str:
    """`base` if no model in the folder has that name (nor is in `taken`: names of another folder a
    picker shows beside it), else `base_2`, `base_3`, ... (the one naming style for new models). A
    free name is only a proposal: save(overwrite=False) is what refuses, atomically, a name another
    save took in between."""
    directory = Path(directory) if directory is not None else models_dir()
    check_name(base)
    for number in range(1, 10000):
        suffix = "" if number == 1 else f"_{number}"
        name = base[: 64 - len(suffix)] + suffix
        if (
            name not in taken
            and not (directory / f"{name}.keras").exists()
            and not (directory / f"{name}.json").exists()
        ):
            return name
    raise ValueError(f"Every name from {base} to {base}_9999 is taken; choose another name.")


def library_versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow

    return {
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def _check_shapes(model, source: str) -> None:
    input_shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    output_shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    if input_shape != INPUT_SHAPE or output_shape != OUTPUT_SHAPE:
        raise ModelFileError(
            f"{source} takes input {input_shape} and gives output {output_shape}; a digit model must "
            f"take {INPUT_SHAPE} (28x28 grayscale) and give {OUTPUT_SHAPE} (ten probabilities)."
        )


def _load_keras_file(path: Path):
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # keras raises many types for a broken zip, config or weights file
        reason = str(error).replace(str(path.parent), "").replace(str(path), path.name)[:200]
        raise ModelFileError(f"{path.name} is not a loadable Keras model ({type(error).__name__}: {reason}).") from None
    _check_shapes(model, path.name)
    return model


def _strip_for_inference(model):
    """A fresh, uncompiled copy with the same weights: no optimizer state in the file."""
    import keras

    # clone_model would copy the compile config (and so the optimizer state) along.
    clean = keras.Model.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    return clean


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader sees the old file or the new, never half."""
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model, card: ModelCard | Mapping, name: str, directory: Path | None = None, *, overwrite: bool = True) -> Path:
    """Save `model` as <name>.keras with its card <name>.json, atomically. `card` is a ModelCard
    (or its JSON fields); its file facts (name, file, checksum, size, parameters) are filled here.

    The model goes to a temporary .keras file in the same folder, is reloaded to prove it loads,
    and only then renamed over any previous file; the card follows the same way. A crash, a full
    disk or a failed validation leaves the previous model and card as they were. With
    overwrite=False the model is linked into place instead, which the file system refuses if the
    name exists: ModelExists, even when another save took the name a moment before.
    """
    directory = Path(directory) if directory is not None else models_dir()
    if not isinstance(card, ModelCard):
        card = ModelCard.from_dict(card)
    tmp = _temporary(name, directory)
    try:
        _strip_for_inference(model).save(tmp)
        _load_keras_file(tmp)  # reload to validate before anything is replaced
        card = card.replace(
            created_at=card.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            versions=card.versions or library_versions(),
            parameters=int(model.count_params()),
        )
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise ModelSaveError(
            f"Could not save the model {name}: {error.strerror or type(error).__name__}. "
            "The previous model, if any, is unchanged."
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _place(tmp, card, name, directory, overwrite=overwrite)


def save_bytes(
    model_bytes: bytes, card: ModelCard, name: str, directory: Path | None = None, *, overwrite: bool = False
) -> Path:
    """Save a model file made elsewhere (by a training worker, which reloaded it before sending it) with
    its card, atomically as save() does. Checked without TensorFlow: a sound Keras digit model
    (inspect_file) whose SHA-256 is the one its card records, else ModelFileError and nothing saved."""
    directory = Path(directory) if directory is not None else models_dir()
    tmp = _temporary(name, directory)
    try:
        tmp.write_bytes(model_bytes)
        inspect_file(tmp)
        if card.sha256 and sha256_of(tmp) != card.sha256:
            raise ModelFileError(
                f"The model {name} arrived damaged (its checksum is not its card's); nothing was saved."
            )
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise ModelSaveError(
            f"Could not save the model {name}: {error.strerror or type(error).__name__}. Nothing was changed."
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _place(tmp, card, name, directory, overwrite=overwrite)


def _temporary(name: str, directory: Path) -> Path:
    """An empty temporary .keras file in `directory` for the model `name` (a checked name)."""
    check_name(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(directory)
        handle, tmp_name = tempfile.mkstemp(prefix=f".tmp-{name}-", suffix=".keras", dir=directory)
    except OSError as error:
        # No path in the message: it reaches the app's visitors (the caller knows the folder).
        raise ModelSaveError(
            f"Could not save the model {name} into the models folder: "
            f"{error.strerror or type(error).__name__}. Nothing was changed."
        ) from None
    os.close(handle)
    return Path(tmp_name)


def _place(tmp: Path, card: ModelCard, name: str, directory: Path, *, overwrite: bool) -> Path:
    """Move the validated model file `tmp` and its card into place under `name`, atomically."""
    target = directory / f"{name}.keras"
    # Named after the model's temporary, so two saves of one name never share a pending card.
    pending = directory / f"{tmp.name[: -len('.keras')]}.card.json"
    try:
        card = card.replace(
            name=name,
            file=target.name,
            sha256=sha256_of(tmp),
            file_bytes=tmp.stat().st_size,
            created_at=card.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            card_format=cards.CARD_FORMAT,
        )
        tmp.chmod(0o644)
        # The new card is written completely under a pending name before the model is renamed; a
        # crash between the two renames is rolled forward by recover() (the card's checksum names
        # the model file it belongs to).
        write_atomically(pending, card.to_json())
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # exclusive: fails if the name exists, with no window between check and write
            tmp.unlink()
        os.replace(pending, directory / f"{name}.json")
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
        raise ModelExists(
            f"A model named '{name}' already exists, so nothing was saved over it. Choose another name."
        ) from None
    except OSError as error:
        tmp.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
        raise ModelSaveError(
            f"Could not save the model {name}: {error.strerror or type(error).__name__}. "
            "The previous model, if any, is unchanged."
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
        raise
    return target


def read_card(path: Path) -> ModelCard | None:
    """The card beside a .keras file (None when there is none)."""
    try:
        return cards.read(path)
    except cards.InvalidCard as error:
        raise ModelFileError(f"The model card {cards.card_path(path).name} is not usable: {error}.") from None
    except OSError as error:
        raise ModelFileError(
            f"The model card {cards.card_path(path).name} cannot be read ({error.strerror or type(error).__name__})."
        ) from None


def resolve(model: str | Path | None, directory: Path | None = None) -> Path:
    """A model path from a path, a name in models/, or None for the default model."""
    directory = Path(directory) if directory is not None else models_dir()
    if model is None:
        return default_model_path(directory)
    candidate = Path(model)
    if candidate.suffix == ".keras" or candidate.exists() or os.sep in str(model):
        return candidate
    return directory / f"{check_name(str(model))}.keras"


def load(model: str | Path | None = None, directory: Path | None = None, *, verify: bool = True):
    """Load a model safely (safe_mode, no compile). With a card, its SHA-256 must match the file."""
    path = resolve(model, directory)
    if not path.is_file():
        raise ModelFileError(f"There is no model file named {path.name}.")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path.name} is not a .keras model file.")
    card = read_card(path)
    if verify and card is not None and card.sha256 and sha256_of(path) != card.sha256:
        raise ModelFileError(
            f"{path.name} does not match the checksum in its card: the file was changed or damaged "
            "after it was saved. Retrain it or restore the original file."
        )
    return _load_keras_file(path)


KERAS_MODEL_CLASSES = {"Functional", "Sequential"}
MAX_MODEL_BYTES = 64 * 2**20


def inspect_file(path: Path) -> None:
    """Check a .keras file's structure without TensorFlow: a sound zip (CRCs), a Keras model config
    of a known class, and the input shape of a digit model. Raises ModelFileError with the reason."""
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{path.name} is larger than any digit model ({path.stat().st_size // 2**20} MB).")
    try:
        with zipfile.ZipFile(path) as archive:
            if (
                archive.testzip() is not None
                or "config.json" not in archive.namelist()
                or "model.weights.h5" not in archive.namelist()
            ):
                raise ModelFileError(f"{path.name} is not a complete Keras model file.")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ModelFileError(f"{path.name} is not a Keras model file (damaged or not a .keras zip).") from None
    if (
        not isinstance(config, dict)
        or config.get("class_name") not in KERAS_MODEL_CLASSES
        or not str(config.get("module", "")).startswith("keras")
    ):
        raise ModelFileError(f"{path.name} does not hold a Keras Functional or Sequential model.")
    layers = (config.get("config") or {}).get("layers") or [{}]
    first = layers[0].get("config", {}) if isinstance(layers[0], dict) else {}
    shape = first.get("batch_shape") or first.get("batch_input_shape")
    if shape is None or tuple(shape) != INPUT_SHAPE:
        raise ModelFileError(f"{path.name} takes input {shape}; a digit model must take {INPUT_SHAPE}.")


@dataclass
class ModelEntry:
    name: str
    path: Path
    card: ModelCard | None  # None when it has none, or it cannot be read (`problem` says so)
    problem: str | None  # None when the model looks usable


def list_models(directory: Path | None = None, *, deep: bool = False) -> list[ModelEntry]:
    """Every .keras file in the folder with its card; `deep` also loads each to prove it works."""
    directory = Path(directory) if directory is not None else models_dir()
    if directory.is_dir():
        recover(directory)
    entries = []
    for path in sorted(directory.glob("*.keras")):
        if path.name.startswith(".tmp-"):
            continue
        problem = None
        card: ModelCard | None = None
        try:
            card = read_card(path)
            if card is None:
                problem = "it has no model card"
            elif card.sha256 and sha256_of(path) != card.sha256:
                problem = "the file does not match the checksum in its card"
            else:
                inspect_file(path)
                if deep:
                    load(path, verify=False)
        except ModelFileError as error:
            card, problem = None, str(error)
        entries.append(ModelEntry(path.stem, path, card, problem))
    return entries


def default_model_path(directory: Path | None = None) -> Path:
    """The model whose card says "default": true."""
    directory = Path(directory) if directory is not None else models_dir()
    defaults = [entry for entry in list_models(directory) if entry.card is not None and entry.card.default]
    for entry in defaults:
        if entry.problem is None:
            return entry.path
    if defaults:
        raise ModelFileError(
            f"The default model {defaults[0].name} cannot be used: {defaults[0].problem}. "
            "Choose another with --model, or retrain it."
        )
    raise ModelFileError(
        f'No usable default model in {directory}: no model card there says "default": true. '
        "Train one with `python -m digitcore train --arch digitnet --default`."
    )


def set_default(name: str, directory: Path | None = None) -> None:
    """Mark one model as the default and clear the flag on every other card."""
    directory = Path(directory) if directory is not None else models_dir()
    if not (directory / f"{check_name(name)}.keras").is_file():
        raise ModelFileError(f"There is no model named {name} in {directory}.")
    for entry in list_models(directory):
        if entry.card is not None and entry.card.default != (entry.name == name):
            write_atomically(cards.card_path(entry.path), entry.card.replace(default=entry.name == name).to_json())
