"""job_process.follow: how the supervisor reads a job process's messages, with a stand-in process and queue."""

import queue

import pytest

from digitcore import job_process
from digitcore.events import BatchProgress, NothingSaved


class StandInProcess:
    """A job process as the supervisor sees it: alive until `dies_after` polls, then an exit code."""

    def __init__(self, alive: bool = True, exitcode: int | None = None) -> None:
        self.alive, self.exitcode, self.joined = alive, exitcode, False

    def is_alive(self) -> bool:
        return self.alive

    def join(self, timeout=None) -> None:
        self.joined = True


def _events(*messages) -> queue.Queue:
    events = queue.Queue()
    for message in messages:
        events.put(message)
    return events


def test_events_go_to_the_listener_until_the_result():
    progress = BatchProgress(epoch=1, step=1, steps=4, loss=2.0, accuracy=0.1)
    seen = []
    process = StandInProcess()
    result, error = job_process.follow(
        process, _events(progress, job_process.Finished(NothingSaved(name="x"))), "x (larger_cnn)", seen.append
    )
    assert (result, error, seen) == (NothingSaved(name="x"), None, [progress])
    assert process.joined


@pytest.mark.parametrize(
    "failure, sentence",
    [
        # a failure people can act on: its sentence as sent
        (job_process.Failed("The loss became NaN."), "The loss became NaN."),
        # an internal error: no sentence was sent, so the generic one (the traceback went to the log)
        (
            job_process.Failed(None, "Traceback ..."),
            "Training failed because of an internal error; the details are in the server log.",
        ),
    ],
)
def test_a_failure_ends_the_job_with_its_sentence(failure, sentence):
    assert job_process.follow(StandInProcess(), _events(failure), "x (larger_cnn)", print) == (None, sentence)


def test_a_process_that_dies_without_a_word_is_reported():
    # (no message will come; the process is already gone)
    result, error = job_process.follow(StandInProcess(alive=False, exitcode=-9), _events(), "x (larger_cnn)", print)
    assert result is None
    assert error == "The training process ended unexpectedly; the details are in the server log."


def test_a_job_process_reports_a_failure_with_the_job_sentence():
    """report() in the child: missing MNIST becomes the job's sentence, with the traceback for the log."""
    from digitcore import data, errors

    events = queue.Queue()

    def work():
        raise data.DataUnavailable("Every MNIST source failed: /srv/data/mnist is empty.")

    job_process.report(events, work)
    message = events.get_nowait()
    assert message.message == errors.DATA_MISSING_IN_JOB and "DataUnavailable" in message.details
