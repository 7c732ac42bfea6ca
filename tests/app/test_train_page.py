"""The Train page as a newcomer meets it: a fast default recipe with an estimate, the full recipe a
click away, notes as prose, readable numbers, a fresh name after each save, and a finished job
shown with its training, validation and test accuracy (and a warning when they disagree)."""

import json
import shutil
import time

import pytest
import streamlit as st

from digitcore import jobs


def _texts(app) -> str:
    return " ".join(str(element.value) for kind in ("info", "warning", "error", "success", "caption", "markdown")
                    for element in getattr(app, kind))


@pytest.fixture
def train_page(open_page):
    st.cache_resource.clear()  # a fresh job manager: it reads this test's models folder and job record
    return lambda: open_page("train")


def test_the_default_is_digitnets_fast_recipe_with_an_estimate_and_an_expectation(train_page):
    app = train_page()
    assert not app.exception and not app.warning
    assert app.selectbox(key="train_preset").value == "digitnet"
    assert app.radio(key="recipe_digitnet").value == "fast"
    assert app.number_input(key="epochs_digitnet").value == 1
    assert app.select_slider(key="batch_digitnet").value == 256
    estimate = " ".join(str(info.value) for info in app.info)
    assert "Estimated time: about" in estimate and "digits per second" in estimate
    assert "Expected test accuracy: about 99.2 %" in estimate


def test_the_full_recipe_is_one_click_away(train_page):
    app = train_page()
    app.radio(key="recipe_digitnet").set_value("default").run()
    assert not app.exception
    assert app.number_input(key="epochs_digitnet").value == 40
    assert app.select_slider(key="batch_digitnet").value == 128 and app.toggle(key="augment_digitnet").value
    app.radio(key="recipe_digitnet").set_value("fast").run()
    assert app.number_input(key="epochs_digitnet").value == 1


def test_the_fast_recipe_on_fewer_digits_gets_more_epochs(train_page):
    app = train_page()
    app.number_input(key="limit_digitnet").set_value(6000).run()
    assert app.number_input(key="epochs_digitnet").value == 10  # as many digits seen as one pass over 60,000


@pytest.mark.parametrize("preset", ["bn_cnn", "conv_relu_pool", "dense_baseline"])  # notes with two paragraphs or none
def test_preset_notes_are_prose_and_counts_have_separators(train_page, preset):
    app = train_page()
    app.selectbox(key="train_preset").set_value(preset).run()
    assert not app.exception
    texts = _texts(app)
    assert "\n    " not in texts  # an indented line is a Markdown code block, clipped at the right edge
    assert "exactly as published" not in texts and "None" not in texts
    parameters = {"bn_cnn": "45,786", "conv_relu_pool": "454,922", "dense_baseline": "623,290"}[preset]
    assert f"**{parameters} parameters**" in texts


def test_the_digitnet_layer_table_shows_every_parameter_count(train_page):
    app = train_page()
    table = app.table[0].value
    assert "parameters" in table.columns
    assert "18,496" in table["parameters"].tolist()  # the 3x3 convolution from 32 to 64 channels
    assert sum(int(count.replace(",", "")) for count in table["parameters"]) == 243498


def test_save_as_proposes_a_fresh_name_once_the_proposed_one_is_taken(train_page, models_dir):
    app = train_page()
    assert app.text_input(key="name_digitnet").value == "my_digitnet"
    for suffix in (".keras", ".json"):  # a job (this visitor's or another's) saved my_digitnet meanwhile
        shutil.copy(models_dir / f"small_cnn{suffix}", models_dir / f"my_digitnet{suffix}")
    app.run()
    assert app.text_input(key="name_digitnet").value == "my_digitnet_2" and not app.warning


def _record(models_dir, **fields) -> None:
    """The job record a server that has since died left (the page shows it as the last job)."""
    epoch = {"event": "epoch", "epochs": 3, "learning_rate": 1e-3, "seconds": 1.0}
    record = {"id": 1, "preset": "bn_cnn", "name": "my_bn_cnn", "state": "done", "epochs": 3, "limit": 6000,
              "recipe": {}, "batch": None, "error": None, "started_at": time.time() - 60,
              "finished_at": time.time() - 5, "kind": "train", "server": "999999999:0",
              "history": [{**epoch, "epoch": 1, "loss": 0.5, "accuracy": 0.85, "val_loss": 0.3, "val_accuracy": 0.91},
                          {**epoch, "epoch": 2, "loss": 0.2, "accuracy": 0.95, "val_loss": 0.2, "val_accuracy": 0.9655}],
              **fields}
    (models_dir / jobs.RECORD_FOLDER).mkdir(exist_ok=True)
    (models_dir / jobs.RECORD_FOLDER / "last.json").write_text(json.dumps(record))


def test_a_finished_job_gives_training_validation_and_test_accuracy_and_warns_when_test_is_far_below(
        train_page, models_dir):
    warning = "Its test accuracy (36.81 %) is far below its final validation accuracy (96.55 %): ..."
    _record(models_dir, result={"event": "done", "name": "my_bn_cnn", "model": "x", "test_accuracy": 0.3681,
                                "train_accuracy": 0.95, "validation_accuracy": 0.9655, "kept_epoch": 2,
                                "epochs_completed": 2, "stopped": False, "seconds": 50.0, "warning": warning})
    app = train_page()
    assert not app.exception
    success = " ".join(str(element.value) for element in app.success)
    assert "training 95.00 %, validation 96.55 %, test **36.81 %**" in success
    assert warning in [element.value for element in app.warning]


def test_after_stop_the_tiles_show_the_saved_models_epoch_not_the_unfinished_one(train_page, models_dir):
    partial = {"event": "epoch", "epoch": 3, "epochs": 3, "loss": 0.1, "accuracy": 0.97, "val_loss": 0.1,
               "val_accuracy": 0.99, "learning_rate": 1e-3, "seconds": 0.5, "stopped": True}  # an older server's
    _record(models_dir, state="stopped",
            result={"event": "done", "name": "my_bn_cnn", "model": "x", "test_accuracy": 0.96, "train_accuracy": 0.95,
                    "validation_accuracy": 0.9655, "kept_epoch": 2, "epochs_completed": 2, "stopped": True,
                    "seconds": 50.0, "warning": None})
    record = json.loads((models_dir / jobs.RECORD_FOLDER / "last.json").read_text())
    record["history"].append(partial)
    (models_dir / jobs.RECORD_FOLDER / "last.json").write_text(json.dumps(record))
    app = train_page()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Validation accuracy"] == "96.55 %" and metrics["Training accuracy"] == "95.00 %"
    assert "stopped early" in " ".join(str(element.value) for element in app.success)
    assert not app.warning
