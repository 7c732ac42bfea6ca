"""digitcore.paths: the one place for the project's folders and the variables that move them."""

from pathlib import Path

import pytest

from digitcore import data, paths, registry, samples

FOLDERS = [
    (paths.DATA_DIR_VARIABLE, data.data_dir, Path("data") / "mnist"),
    (paths.MODELS_DIR_VARIABLE, registry.models_dir, Path("models")),
    (paths.SAMPLES_DB_VARIABLE, samples.default_path, Path("data") / "samples.sqlite3"),
]


@pytest.mark.parametrize("variable, where, default", FOLDERS)
def test_each_folder_is_in_the_project_unless_its_variable_moves_it(monkeypatch, tmp_path, variable, where, default):
    monkeypatch.delenv(variable, raising=False)
    assert where() == paths.PROJECT_ROOT / default
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert where() == tmp_path / "elsewhere"


def test_the_project_root_holds_the_package():
    assert (paths.PROJECT_ROOT / "digitcore" / "paths.py").is_file()
    assert data.PROJECT_ROOT == paths.PROJECT_ROOT  # older imports keep working
