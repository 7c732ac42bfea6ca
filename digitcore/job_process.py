"""The job process and its supervision: what runs in the child process of the server (tied to the
server's life), the messages it sends back, and the loop that follows them until the job ends."""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from digitcore import errors
from digitcore.events import Outcome

log = logging.getLogger("digitcore.jobs")


class StopFlag:
    """training.StopSignal's interface over a multiprocessing Event."""

    def __init__(self, event) -> None:
        self._event = event

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def end_with_server(server_pid: int) -> None:
    """Make the kernel SIGKILL this job process when the server thread that started it ends, so a
    killed server (OOM killer, kill -9) leaves no orphan training on and saving a model nobody waits
    for. The server starts jobs from their monitor thread, which lives exactly as long as the job."""
    if os.getppid() != server_pid:  # the server died before we got here
        os._exit(3)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL)) != 0:  # 1 = PR_SET_PDEATHSIG (Linux)
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    except (OSError, AttributeError):  # not Linux: watch for the server's death instead

        def watch() -> None:
            while os.getppid() == server_pid:
                time.sleep(0.5)
            os._exit(3)

        threading.Thread(target=watch, name="end-with-server", daemon=True).start()
        return
    if os.getppid() != server_pid:  # it died between the first check and prctl
        os._exit(3)


def run_child(server_pid: int, target: Callable, *args) -> None:
    """Entry point of every job process. Once the work has sent its final message (report() waits
    until it is written), the process ends at once: TensorFlow's teardown at interpreter exit took
    10-20 s here, and nothing is left to do (a model is saved atomically before the message)."""
    end_with_server(server_pid)
    target(*args)
    os._exit(0)


@dataclasses.dataclass(frozen=True)
class Finished:
    """The job process's last message when its work returned."""

    result: Outcome


@dataclasses.dataclass(frozen=True)
class Failed:
    """The job process's last message when its work raised."""

    message: str | None  # a sentence for visitors; None: an internal error
    details: str | None = None  # the traceback, for the server log


def report(events, work: Callable[[], Outcome]) -> None:
    """Run `work` in a job process and send its final message: the result, or why it failed in a
    sentence a visitor can act on (errors.sentence_for; the traceback goes to the server log unless
    the error's own message says it all)."""
    try:
        events.put(Finished(work()))
    except Exception as error:
        details = None if isinstance(error, errors.SELF_EXPLAINED) else traceback.format_exc()
        events.put(Failed(errors.sentence_for(error, errors.Audience.JOB), details))
    if hasattr(events, "join_thread"):  # a multiprocessing queue: wait until the message is written
        events.close()
        events.join_thread()


def train_in_child(
    preset: str,
    recipe,
    seed: int,
    limit: int | None,
    name: str,
    models_directory: str,
    started_at: float,
    accuracy_floor: float | None,
    events,
    stop,
) -> None:
    """The training process: run train_and_save and send every event, then one final message."""
    from digitcore import import_tensorflow_quietly

    import_tensorflow_quietly()
    from digitcore import training
    from digitcore.architectures import get_preset

    report(
        events,
        lambda: training.train_and_save(
            get_preset(preset),
            recipe=recipe,
            seed=seed,
            limit=limit,
            name=name,
            command=f"app: train {preset}",
            listener=events.put,
            stop=StopFlag(stop),
            models_directory=Path(models_directory),
            started_at=started_at,
            accuracy_floor=accuracy_floor,
        ),
    )


def finetune_in_child(
    parent: str, x_samples, y_samples, epochs: int, user_examples: int, name: str, models_directory: str, events, stop
) -> None:
    """The fine-tuning process: run training.finetune and send every event, then one final message."""
    from digitcore import import_tensorflow_quietly

    import_tensorflow_quietly()
    from digitcore import training

    report(
        events,
        lambda: training.finetune(
            parent,
            x_samples,
            y_samples,
            epochs=epochs,
            user_examples=user_examples,
            name=name,
            listener=events.put,
            stop=StopFlag(stop),
            models_directory=Path(models_directory),
        ),
    )


def follow(process, events, label: str, on_event: Callable[[object], None]) -> tuple[Outcome | None, str | None]:
    """Follow a started job process: pass each event to `on_event` until the final message, or notice
    that the process died without one. Returns (its result, None) or (None, a sentence for visitors)
    as soon as the final message arrives: the caller joins the process after telling visitors."""
    result, error = None, None
    while True:
        try:
            event = events.get(timeout=0.5)
        except queue.Empty:
            if process.is_alive():
                continue
            process.join()
            log.error("Training job %s: the process ended without a result (exit code %s)", label, process.exitcode)
            error = "The training process ended unexpectedly; the details are in the server log."
            break
        if isinstance(event, Finished):
            result = event.result
            break
        if isinstance(event, Failed):
            if event.details:
                log.error("Training job %s failed:\n%s", label, event.details)
            error = event.message or "Training failed because of an internal error; the details are in the server log."
            break
        on_event(event)
    return result, error
