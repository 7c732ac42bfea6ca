"""Faults caused for real while saving models: a full disk, a read-only folder, SIGKILL mid-save."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from digitcore import registry
from digitcore.architectures import get_preset
from digitcore.data import PROJECT_ROOT


@pytest.fixture
def small_folder(tmp_path):
    """A 400 KB tmpfs: room for one small model (about 280 KB) but not for a second copy."""
    folder = tmp_path / "tiny-disk"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_gives_a_clear_error_and_keeps_the_previous_model(small_folder):
    model = get_preset("larger_cnn").build()
    registry.save(model, {"generation": 1}, "kept", small_folder)
    before = (small_folder / "kept.keras").read_bytes()
    with pytest.raises(registry.ModelSaveError, match="No space left on device.*unchanged"):
        registry.save(model, {"generation": 2}, "kept", small_folder)
    assert (small_folder / "kept.keras").read_bytes() == before
    assert json.loads((small_folder / "kept.json").read_text())["generation"] == 1
    registry.load("kept", small_folder)
    assert sorted(p.name for p in small_folder.iterdir()) == ["kept.json", "kept.keras"]


def test_a_read_only_folder_gives_a_clear_error(small_folder):
    model = get_preset("larger_cnn").build()
    registry.save(model, {"generation": 1}, "kept", small_folder)
    subprocess.run(["mount", "-o", "remount,ro", str(small_folder)], check=True)
    with pytest.raises(registry.ModelSaveError, match="Read-only file system"):
        registry.save(model, {"generation": 2}, "kept", small_folder)
    registry.load("kept", small_folder)


SAVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import digitcore
    digitcore.import_tensorflow_quietly()
    from digitcore import registry
    from digitcore.architectures import get_preset
    model = get_preset("larger_cnn").build()
    print("ready", flush=True)
    generation = 0
    while True:
        generation += 1
        registry.save(model, {{"generation": generation}}, "busy", {folder!r})
""")


def test_sigkill_during_saves_leaves_only_complete_loadable_models(tmp_path):
    folder = tmp_path / "models"
    saver = subprocess.Popen(
        [sys.executable, "-c", SAVER.format(root=str(PROJECT_ROOT), folder=str(folder))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert saver.stdout.readline().strip() == "ready"
    killed_at = []
    for delay in (0.7, 0.45, 0.9, 0.3, 0.6):
        time.sleep(delay)  # let some saves complete, then kill at an arbitrary point of the next
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait()
        killed_at.append(sorted(p.name for p in folder.iterdir()))
        entries = registry.list_models(folder, deep=True)
        assert [e.problem for e in entries if e.name == "busy"] in ([], [None])
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER.format(root=str(PROJECT_ROOT), folder=str(folder))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert saver.stdout.readline().strip() == "ready"
    os.kill(saver.pid, signal.SIGKILL)
    saver.wait()
    assert registry.load("busy", folder).count_params() == 59933
    # Leftover temporaries of killed saves are removed once they are older than any live save.
    removed = registry.remove_stale_temporaries(folder, older_than=0)
    assert sorted(p.name for p in folder.iterdir()) == ["busy.json", "busy.keras"], (killed_at, removed)
