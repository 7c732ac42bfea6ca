"""models/: atomic save, checks on load, cards, listing and the default model."""

import json
import zipfile

import keras
import numpy as np
import pytest

from digitcore import registry
from digitcore.architectures import get_preset


@pytest.fixture(scope="module")
def small_model():
    return get_preset("larger_cnn").build()


def _wrong_shape_model():
    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))


def test_save_writes_model_and_card_and_loads_back(tmp_path, small_model):
    path = registry.save(small_model, {"architecture": "larger_cnn", "test_accuracy": 0.5}, "first", tmp_path)
    card = json.loads((tmp_path / "first.json").read_text())
    assert card["sha256"] == registry.sha256_of(path) and card["parameters"] == 59933
    assert card["file_bytes"] == path.stat().st_size and "keras" in card["versions"]
    loaded = registry.load("first", tmp_path)
    digits = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    assert np.allclose(loaded(digits), small_model(digits), atol=1e-6)
    with zipfile.ZipFile(path) as archive:  # inference only: no optimizer state in the file
        assert "optimizer" not in str(archive.read("model.weights.h5"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_a_save_that_fails_half_way_leaves_the_previous_model(tmp_path, small_model):
    registry.save(small_model, {"architecture": "larger_cnn", "generation": 1}, "kept", tmp_path)
    before = (tmp_path / "kept.keras").read_bytes()
    # This model is written to a temporary file, then fails the reload check (wrong input shape).
    with pytest.raises(registry.ModelFileError, match="must take"):
        registry.save(_wrong_shape_model(), {"generation": 2}, "kept", tmp_path)
    assert (tmp_path / "kept.keras").read_bytes() == before
    assert json.loads((tmp_path / "kept.json").read_text())["generation"] == 1
    assert registry.load("kept", tmp_path).count_params() == 59933
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json", "kept.keras"]


def _write_bad_file(folder, kind):
    path = folder / f"{kind}.keras"
    if kind == "random":
        path.write_bytes(np.random.default_rng(1).bytes(5000))
    elif kind == "truncated":
        registry.save(get_preset("larger_cnn").build(), {}, "whole", folder)
        path.write_bytes((folder / "whole.keras").read_bytes()[:3000])
    elif kind == "wrong_shape":
        _wrong_shape_model().save(path)
    elif kind == "empty":
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("random", "not a loadable Keras model"),  # random bytes named .keras
        ("truncated", "not a loadable Keras model"),  # the first 3 KB of a real model
        ("wrong_shape", "must take"),  # a real Keras model for 32x32 colour images
        ("empty", "not a loadable Keras model"),  # a zero-byte file
    ],
)
def test_unusable_model_files_are_rejected_with_clear_errors(tmp_path, kind, message):
    path = _write_bad_file(tmp_path, kind)
    with pytest.raises(registry.ModelFileError, match=message):
        registry.load(path)


def test_a_file_changed_after_saving_fails_its_checksum(tmp_path, small_model):
    path = registry.save(small_model, {}, "tampered", tmp_path)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(registry.ModelFileError, match="checksum"):
        registry.load("tampered", tmp_path)
    entry, = [e for e in registry.list_models(tmp_path) if e.name == "tampered"]
    assert "checksum" in entry.problem


def test_listing_and_the_default_model(tmp_path, small_model):
    with pytest.raises(registry.ModelFileError, match="No usable default model"):
        registry.default_model_path(tmp_path)
    registry.save(small_model, {"default": True}, "a", tmp_path)
    registry.save(small_model, {}, "b", tmp_path)
    _write_bad_file(tmp_path, "random")
    assert registry.default_model_path(tmp_path).name == "a.keras"
    registry.set_default("b", tmp_path)
    assert registry.default_model_path(tmp_path).name == "b.keras"
    entries = {entry.name: entry for entry in registry.list_models(tmp_path, deep=True)}
    assert entries["a"].problem is None and entries["a"].card["default"] is False
    assert entries["random"].problem is not None
    with pytest.raises(ValueError, match="not a usable model name"):
        registry.save(small_model, {}, "../escape", tmp_path)
