"""What a worker's task sends back, without a cluster: progress events in their plain form, and the
task's result (the model's bytes and card, or a sentence for visitors with the traceback for the log)."""

import math

import pytest

from digitcore import data, errors
from digitcore.events import BatchProgress, EpochEnd, EpochStopped, NothingSaved, TrainBegin, TrainDone
from digitcore.jobs import work


@pytest.mark.parametrize(
    "event",
    [
        TrainBegin(epochs=3, steps_per_epoch=40),
        BatchProgress(epoch=1, step=5, steps=40, loss=2.1, accuracy=0.25),
        EpochEnd(
            epoch=1, epochs=3, loss=0.5, accuracy=0.9, val_loss=0.4, val_accuracy=0.91, learning_rate=1e-3, seconds=2.0
        ),
        EpochStopped(epoch=2, epochs=3),
    ],
)
def test_every_progress_event_crosses_the_cluster_unchanged(event):
    assert work.event_from_dict(event.to_dict()) == event


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="Unknown job event 'surprise'"):
        work.event_from_dict({"event": "surprise"})


def test_a_saved_model_comes_back_as_its_bytes_and_card(tmp_path):
    (tmp_path / "mine.keras").write_bytes(b"model bytes")
    (tmp_path / "mine.json").write_text('{"name": "mine"}')
    done = TrainDone(
        name="mine",
        model=str(tmp_path / "mine.keras"),
        test_accuracy=0.9,
        epochs_completed=1,
        kept_epoch=1,
        stopped=False,
        seconds=1.0,
    )
    result = work.report(lambda: done, tmp_path, "mine")
    assert result == work.Finished(done, work.SavedModel("mine", b"model bytes", '{"name": "mine"}'))


def test_a_run_that_saved_nothing_sends_no_model(tmp_path):
    assert work.report(lambda: NothingSaved(name="mine"), tmp_path, "mine") == work.Finished(NothingSaved(name="mine"))


def test_a_failure_comes_back_as_the_job_sentence_with_the_traceback_for_the_log(tmp_path):
    def missing_digits():
        raise data.DataUnavailable("Every MNIST source failed: /srv/data/mnist is empty.")

    failed = work.report(missing_digits, tmp_path, "mine")
    assert failed.message == errors.DATA_MISSING_IN_JOB and "DataUnavailable" in failed.details
    assert "/srv" not in failed.message


def test_an_internal_error_sends_no_sentence_only_its_traceback(tmp_path):
    def broken():
        return 1 / 0

    failed = work.report(broken, tmp_path, "mine")
    assert failed.message is None and "ZeroDivisionError" in failed.details


def test_a_nan_free_batch_event_survives_missing_numbers():
    event = work.event_from_dict({"event": "batch", "epoch": 1, "step": 2, "steps": 3})
    assert event.step == 2 and math.isnan(event.loss)
