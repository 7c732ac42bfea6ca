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
    (entry,) = [e for e in registry.list_models(tmp_path) if e.name == "tampered"]
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


def test_free_name_proposes_the_base_then_numbered_names(tmp_path, small_model):
    assert registry.free_name("my_digitnet", tmp_path) == "my_digitnet"
    registry.save(small_model, {}, "my_digitnet", tmp_path)
    assert registry.free_name("my_digitnet", tmp_path) == "my_digitnet_2"
    registry.save(small_model, {}, "my_digitnet_2", tmp_path)
    assert registry.free_name("my_digitnet", tmp_path) == "my_digitnet_3"
    assert len(registry.free_name("x" * 64, tmp_path)) <= 64
    with pytest.raises(ValueError, match="not a usable model name"):
        registry.free_name("../escape", tmp_path)


def test_save_without_overwrite_refuses_a_taken_name_and_keeps_the_model(tmp_path, small_model):
    registry.save(small_model, {"generation": 1}, "mine", tmp_path, overwrite=False)
    before = (tmp_path / "mine.keras").read_bytes()
    with pytest.raises(registry.ModelExists, match="A model named 'mine' already exists"):
        registry.save(small_model, {"generation": 2}, "mine", tmp_path, overwrite=False)
    assert (tmp_path / "mine.keras").read_bytes() == before
    assert json.loads((tmp_path / "mine.json").read_text())["generation"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.json", "mine.keras"]  # no temporaries left


def test_two_saves_racing_for_one_name_leave_one_model_and_its_own_card(tmp_path, small_model):
    import threading

    outcomes = []

    def save(generation):
        try:
            registry.save(small_model, {"generation": generation}, "contested", tmp_path, overwrite=False)
            outcomes.append(generation)
        except registry.ModelExists:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(generation,)) for generation in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) in (["1", "refused"], ["2", "refused"])
    (entry,) = registry.list_models(tmp_path)
    assert entry.problem is None and entry.card["generation"] in outcomes  # the winner's card, not the loser's
