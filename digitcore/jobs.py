"""Background training and fine-tuning jobs: one at a time per server, each in its own process,
readable from any session.

This module is the one-job rule and the job's state under a lock (JobManager); what a job is lives in
job_state.py, its child process and supervision in job_process.py, its crash record in job_record.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitcore import errors, job_process, job_record, limits, registry
from digitcore.errors import JobBusy  # noqa: F401 (raised here; pages and tests name it jobs.JobBusy)
from digitcore.events import BatchProgress, CurvePoint, EpochEnd, FinetuneDone, Outcome, TrainBegin, TrainDone
from digitcore.job_record import INTERRUPTED_MESSAGE, INTERRUPTED_SAVED_MESSAGE, RECORD_FOLDER  # noqa: F401 (the older names, read from here)
from digitcore.job_requests import FinetuneRequest, TrainRequest
from digitcore.job_state import FINAL_STATES, RUNNING_STATES, JobKind, JobSnapshot, JobState  # noqa: F401

if TYPE_CHECKING:
    from digitcore.recipes import Recipe

log = logging.getLogger(__name__)

DATA_MISSING_MESSAGE = errors.DATA_MISSING_IN_JOB  # the older name


@dataclasses.dataclass
class _Job:
    id: int
    preset: str
    name: str
    recipe: Recipe | None  # None for a fine-tune job
    limit: int | None
    stop: Any  # a multiprocessing Event shared with the training process
    kind: JobKind = JobKind.TRAIN
    epochs: int = 0  # planned; the recipe's for a training job
    state: JobState = JobState.STARTING
    history: list[EpochEnd] = dataclasses.field(default_factory=list)
    curve: list[CurvePoint] = dataclasses.field(default_factory=list)
    batch: BatchProgress | None = None
    result: Outcome | None = None
    error: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    finished_at: float | None = None
    fit_started_at: float | None = None
    # The first progress after the first compiled call (time.time(), overall progress): the job's own
    # pace is measured from here, leaving out tracing and compiling.
    pace_reference: tuple[float, float] | None = None
    estimated_seconds: float | None = None  # what the page estimated before the click
    monitor: threading.Thread | None = None


class JobManager:
    """Runs at most one training job at a time, each in a child process of the server.

    A process, not a thread: Streamlit calls keras.backend.clear_session() after every script
    run, which resets Keras's global state in every thread of the server (layer names collide
    mid-build), and a process also keeps training off the server's GIL. A monitor thread turns
    the child's events into this object's state under a lock, so every visitor's page can read a
    snapshot whenever it likes; a rerun, a page switch or a closed tab leaves the job running.
    One manager per server (the app keeps it in st.cache_resource).
    """

    def __init__(self, models_directory: Path | str | None = None) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._current: _Job | None = None
        self._models_directory = Path(models_directory) if models_directory is not None else None
        # spawn, not fork: forking a process that already runs TensorFlow's threads can deadlock
        self._context = multiprocessing.get_context("spawn")
        self.on_finish: list[Callable[[JobSnapshot], None]] = []  # called in the monitor thread
        self._identity = job_record.process_identity(os.getpid())
        self._previous: JobSnapshot | None = None  # the record a dead server left, read once
        self._previous_read = False

    @property
    def models_directory(self) -> Path:
        return self._models_directory or registry.models_dir()

    def start(
        self,
        preset: str,
        *,
        name: str,
        recipe: Recipe | None = None,
        limit: int | None = None,
        seed: int = 0,
        estimated_seconds: float | None = None,
        accuracy_floor: float | None = None,
    ) -> JobSnapshot:
        """Start training `preset` in the background, saving it as `name` in the models folder.
        `estimated_seconds` (the page's estimate before the click) steadies the time left until the
        job's own pace is known; a test accuracy below `accuracy_floor` (estimates.Expectation.floor:
        far below what runs like it reached) is saved with a warning.

        Raises JobBusy when a job is already running, ValueError for a bad preset, recipe, subset
        size or name (including a name already taken: a visitor must never overwrite a model).
        """
        request = TrainRequest(preset, name, recipe, limit, seed).validated(self.models_directory)
        assert request.recipe is not None  # validated() always sets one
        job = _Job(
            next(self._ids),
            request.preset,
            request.name,
            request.recipe,
            request.limit,
            stop=self._context.Event(),
            epochs=request.recipe.epochs,
            estimated_seconds=estimated_seconds,
        )
        return self._launch(
            job,
            job_process.train_in_child,
            (
                request.preset,
                request.recipe,
                request.seed,
                request.limit,
                request.name,
                str(self.models_directory),
                job.started_at,
                accuracy_floor,
            ),
        )

    def start_finetune(
        self,
        parent: Path | str,
        x_samples,
        y_samples,
        *,
        name: str,
        epochs: int = limits.FINETUNE_DEFAULT_EPOCHS,
        user_examples: int = 3000,
    ) -> JobSnapshot:
        """Fine-tune the saved model `parent` on the user's digits (uint8 (n, 28, 28), labels) in the
        background, saving it as `name`. Shares the one-job-at-a-time rule with training: raises
        JobBusy when any job runs, ValueError for no digits, bad epochs, a bad or taken name."""
        request = FinetuneRequest(str(parent), x_samples, y_samples, name, epochs, user_examples).validated(
            self.models_directory
        )
        assert request.parent is not None and request.name is not None  # validated() always sets both
        job = _Job(
            next(self._ids),
            Path(request.parent).stem,
            request.name,
            None,
            None,
            stop=self._context.Event(),
            kind=JobKind.FINETUNE,
            epochs=request.epochs,
        )
        return self._launch(
            job,
            job_process.finetune_in_child,
            (
                request.parent,
                request.x_samples,
                request.y_samples,
                request.epochs,
                request.user_examples,
                request.name,
                str(self.models_directory),
            ),
        )

    def _launch(self, job: _Job, target: Callable, args: tuple) -> JobSnapshot:
        """Start `target(*args, events, stop)` in a child process unless a job already runs."""
        with self._lock:
            if self._current is not None and self._current.state in RUNNING_STATES:
                running = self._current
                doing = "is training" if running.kind == JobKind.TRAIN else "is being fine-tuned"
                raise JobBusy(
                    f"'{running.name}' ({running.preset}) {doing} right now; "
                    "one training job runs at a time. Watch it here or wait for it to finish."
                )
            events = self._context.Queue()
            process = self._context.Process(
                target=job_process.run_child,
                name=f"{job.kind}-{job.name}",
                daemon=True,
                args=(os.getpid(), target, *args, events, job.stop),
            )
            # The monitor thread starts the process: the child's death signal is tied to the thread
            # that forked it, and the monitor lives as long as the job (a script thread does not).
            started = threading.Event()
            failures: list[BaseException] = []
            job.monitor = threading.Thread(
                target=self._monitor,
                args=(job, process, events, started, failures),
                name=f"monitor-{job.name}",
                daemon=True,
            )
            job.monitor.start()
            started.wait()
            if failures:
                raise failures[0]
            self._current = job
            self._write_record(job)
            return self._snapshot(job)

    # --- the crash record (job_record.py): what the next server start shows of a job this server did not finish

    def _write_record(self, job: _Job) -> None:
        """Call with the lock held."""
        job_record.write(self.models_directory, self._snapshot(job), self._identity)

    def stop(self) -> bool:
        """Ask the running job to stop after its current batch; False when nothing runs."""
        with self._lock:
            job = self._current
            if job is None or job.state not in RUNNING_STATES:
                return False
            job.stop.set()
            job.state = JobState.STOPPING
            return True

    def snapshot(self) -> JobSnapshot | None:
        """The current (or last) job; before this server ran one, the last job of the server that
        used the folder before (shown 'interrupted' if that server died while it ran); else None."""
        with self._lock:
            if self._current:
                return self._snapshot(self._current)
            if not self._previous_read:
                self._previous = job_record.read_previous(self.models_directory, self._identity)
                self._previous_read = True
            return self._previous

    def wait(self, timeout: float | None = None) -> JobSnapshot | None:
        """Block until the current job has ended (for scripts and tests)."""
        with self._lock:
            monitor = self._current.monitor if self._current else None
        if monitor is not None:
            monitor.join(timeout)
        return self.snapshot()

    @staticmethod
    def _snapshot(job: _Job) -> JobSnapshot:
        """A copy of the job's state (call with the lock held); the events in it are immutable."""
        return JobSnapshot(
            id=job.id,
            preset=job.preset,
            name=job.name,
            state=job.state,
            epochs=job.epochs,
            limit=job.limit,
            recipe=job.recipe.to_dict() if job.recipe else {},
            history=list(job.history),
            curve=list(job.curve),
            batch=job.batch,
            result=job.result,
            error=job.error,
            started_at=job.started_at,
            finished_at=job.finished_at,
            kind=job.kind,
            fit_started_at=job.fit_started_at,
            pace_reference=job.pace_reference,
            estimated_seconds=job.estimated_seconds,
        )

    def _apply(self, job: _Job, event: object) -> None:
        with self._lock:
            if isinstance(event, TrainBegin) and job.state == JobState.STARTING:
                job.state = JobState.RUNNING
                job.fit_started_at = time.time()
            elif isinstance(event, BatchProgress):
                job.batch = event
                if job.pace_reference is None:
                    job.pace_reference = (time.time(), self._snapshot(job).overall_progress)
            elif isinstance(event, CurvePoint):
                job.curve.append(event)
            elif isinstance(event, EpochEnd):
                job.history.append(event)
                self._write_record(job)

    def _monitor(self, job: _Job, process, events, started: threading.Event, failures: list[BaseException]) -> None:
        """Start the child, then follow its events until its final message, or notice that it died."""
        try:
            process.start()
        except BaseException as failure:  # reported to _launch, which raises it to the caller
            failures.append(failure)
            return
        finally:
            started.set()
        result, error = job_process.follow(
            process, events, f"{job.name} ({job.preset})", lambda event: self._apply(job, event)
        )
        if error is not None:
            state = JobState.FAILED
        elif isinstance(result, FinetuneDone) or (isinstance(result, TrainDone) and not result.stopped):
            state = JobState.DONE
        else:
            state = JobState.STOPPED  # before the first epoch ended (nothing saved) or later (finished epochs saved)
        with self._lock:
            job.result, job.state, job.error, job.finished_at = result, state, error, time.time()
            self._write_record(job)
            snapshot = self._snapshot(job)
        for callback in list(self.on_finish):
            try:
                callback(snapshot)
            except Exception:
                log.exception("A job-finish callback failed")
        process.join(timeout=30)  # after visitors see the end: a process's exit is not theirs to wait for
