"""What runs on a worker: one training or fine-tuning job as a Dask task.

The task trains into a temporary folder of its own worker (no disk is shared with the app), streams
its progress events to the app through a distributed Queue, polls a distributed Event for Stop, and
returns its outcome with the saved model's bytes and card; the app's registry saves them. Whatever
goes wrong comes back as a sentence a visitor can act on (errors.sentence_for), never a traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitcore import errors
from digitcore.events import (
    BatchProgress,
    CurvePoint,
    EpochEnd,
    EpochStopped,
    FinetuneDone,
    Outcome,
    TrainBegin,
    TrainDone,
)
from digitcore.jobs.cluster import CLAIM_SUFFIX, EVENTS_SUFFIX, STOP_SUFFIX

log = logging.getLogger("digitcore.jobs")

WORKER_LOST_MESSAGE = (
    "The worker running this job stopped before it finished (it may have run out of memory or been "
    "shut down), so nothing of it was saved. Start it again when you like."
)
STOP_POLL_SECONDS = 0.5  # how soon a Stop reaches the training loop, at one scheduler call per poll


@dataclasses.dataclass(frozen=True)
class SavedModel:
    """A model file and its card as bytes: what crosses from a worker to the app (or back, as a
    fine-tune's parent)."""

    name: str
    model_bytes: bytes
    card_json: str | None


@dataclasses.dataclass(frozen=True)
class Finished:
    """The task's result when its work returned: the outcome, and the model it saved (if any)."""

    result: Outcome
    model: SavedModel | None = None


@dataclasses.dataclass(frozen=True)
class Failed:
    """The task's result when its work raised."""

    message: str | None  # a sentence for visitors; None: an internal error
    details: str | None = None  # the traceback, for the server log


def event_from_dict(values: dict) -> object:
    """A progress event from the plain form it crosses the cluster in."""
    kind = values.get("event")
    if kind == "train_begin":
        return TrainBegin(epochs=int(values["epochs"]), steps_per_epoch=int(values["steps_per_epoch"]))
    if kind == "batch":
        return BatchProgress.from_dict(values)
    if kind == "point":
        return CurvePoint.from_dict(values)
    if kind == "epoch":
        return EpochEnd.from_dict(values)
    if kind == "stopped":
        return EpochStopped(epoch=int(values["epoch"]), epochs=int(values["epochs"]))
    raise ValueError(f"Unknown job event {kind!r}")


class EventSender:
    """Sends events from a thread of its own, so a training step never waits on the network."""

    def __init__(self, events) -> None:
        self._pending: queue.Queue = queue.Queue()
        self._events = events
        self._thread = threading.Thread(target=self._send, name="job-events", daemon=True)
        self._thread.start()

    def put(self, event) -> None:
        self._pending.put(event.to_dict())

    def _send(self) -> None:
        while (event := self._pending.get()) is not None:
            try:
                self._events.put(event)
            except Exception as error:  # progress is best effort; the result still comes back
                log.warning("Could not send a job event: %s", error)

    def close(self) -> None:
        """Send what is pending, then end (before the task returns: events come before the result)."""
        self._pending.put(None)
        self._thread.join(timeout=30)


class StopPoller:
    """training.StopSignal's interface over a distributed Event, polled from a thread of its own."""

    def __init__(self, signal) -> None:
        self._local = threading.Event()
        self._done = threading.Event()
        self._signal = signal
        self._thread = threading.Thread(target=self._poll, name="job-stop", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set() and not self._local.is_set():
            try:
                if self._signal.is_set():
                    self._local.set()
            except Exception as error:  # the scheduler is briefly unreachable: ask again
                log.debug("Could not read the stop signal: %s", error)
            self._done.wait(STOP_POLL_SECONDS)

    def set(self) -> None:
        self._local.set()

    def is_set(self) -> bool:
        return self._local.is_set()

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def claim(key: str) -> bool:
    """Mark the job as taken by this attempt; False when an earlier attempt took it (its worker died
    and the cluster ran the task again): the job has failed, and must not start over in silence."""
    from distributed import Event

    taken = Event(key + CLAIM_SUFFIX)
    if taken.is_set():
        return False
    taken.set()
    return True


def run_job(key: str, name: str, work: Callable[[Path, Callable, Any], Outcome]) -> Finished | Failed:
    """Run `work(folder, listener, stop)` for the job `key`, which saves the model `name` in `folder`."""
    if not claim(key):
        return Failed(WORKER_LOST_MESSAGE)
    from distributed import Event, Queue

    from digitcore import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    keras.backend.clear_session()  # a worker runs job after job: no layer names left from the last one
    sender = EventSender(Queue(key + EVENTS_SUFFIX))
    stop = StopPoller(Event(key + STOP_SUFFIX))
    try:
        with tempfile.TemporaryDirectory(prefix="digitcore-job-") as folder:
            return report(lambda: work(Path(folder), sender.put, stop), Path(folder), name)
    finally:
        stop.close()
        sender.close()


def report(work: Callable[[], Outcome], folder: Path, name: str) -> Finished | Failed:
    """Run `work` and return its outcome with the model it saved in `folder`, or why it failed in a
    sentence a visitor can act on (the traceback too, for the log, unless the sentence says it all)."""
    try:
        outcome = work()
        model = None
        if isinstance(outcome, (TrainDone, FinetuneDone)):
            card = folder / f"{name}.json"
            model = SavedModel(
                name, (folder / f"{name}.keras").read_bytes(), card.read_text() if card.exists() else None
            )
        return Finished(outcome, model)
    except Exception as error:
        details = None if isinstance(error, errors.SELF_EXPLAINED) else traceback.format_exc()
        return Failed(errors.sentence_for(error, errors.Audience.JOB), details)


def train_task(
    key: str, preset: str, recipe, seed: int, limit: int | None, name: str, accuracy_floor: float | None = None
) -> Finished | Failed:
    """One training job on a worker (`accuracy_floor`: see training.train_and_save)."""
    taken_at = time.time()  # the worker's own clock: the card's setup_seconds never mixes two machines'

    def work(folder: Path, listener, stop) -> Outcome:
        from digitcore import training
        from digitcore.architectures import get_preset

        return training.train_and_save(
            get_preset(preset),
            recipe=recipe,
            seed=seed,
            limit=limit,
            name=name,
            command=f"app: train {preset}",
            listener=listener,
            stop=stop,
            models_directory=folder,
            started_at=taken_at,
            accuracy_floor=accuracy_floor,
        )

    return run_job(key, name, work)


def finetune_task(
    key: str, parent: SavedModel, x_samples, y_samples, epochs: int, user_examples: int, name: str
) -> Finished | Failed:
    """One fine-tuning job on a worker; the parent model travels with it."""

    def work(folder: Path, listener, stop) -> Outcome:
        from digitcore import training

        parent_path = folder / f"{parent.name}.keras"
        parent_path.write_bytes(parent.model_bytes)
        if parent.card_json is not None:
            (folder / f"{parent.name}.json").write_text(parent.card_json)
        return training.finetune(
            str(parent_path),
            x_samples,
            y_samples,
            epochs=epochs,
            user_examples=user_examples,
            name=name,
            listener=listener,
            stop=stop,
            models_directory=folder,
        )

    return run_job(key, name, work)
