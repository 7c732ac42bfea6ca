"""The job manager: every visitor's training and fine-tuning jobs, queued fairly and run on the cluster.

A job is asked for in a workspace, waits in the fair queue (queue.py) until a worker is free, runs as
a task on the cluster (cluster.py, work.py), streams its progress back, and ends with its model saved
by the registry into that workspace's models folder. Every visitor's page reads snapshots of their
own job; of the others' jobs they see only the queue's size.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from digitcore import errors, limits, registry
from digitcore.cards import ModelCard
from digitcore.events import (
    BatchProgress,
    CurvePoint,
    EpochEnd,
    FinetuneDone,
    NothingSaved,
    Outcome,
    TrainBegin,
    TrainDone,
)
from digitcore.jobs import cluster as clusters
from digitcore.jobs import record as job_record
from digitcore.jobs import work
from digitcore.jobs.cluster import Cluster
from digitcore.jobs.queue import FairQueue
from digitcore.jobs.requests import FinetuneRequest, TrainRequest
from digitcore.jobs.state import ACTIVE_STATES, JobKind, JobSnapshot, JobState

if TYPE_CHECKING:
    from digitcore.recipes import Recipe
    from digitcore.workspaces import Workspace

log = logging.getLogger("digitcore.jobs")

QUEUED_STOP_MESSAGE = "Stopped while it waited in the queue; it never started, so nothing was saved."
CLUSTER_DOWN_MESSAGE = (
    "The training cluster could not be reached, so this job did not start; nothing was saved. "
    "The details are in the server log."
)
NO_RESULT_MESSAGE = "Training failed because of an internal error; the details are in the server log."
EVENT_POLL_SECONDS = 0.25  # how often a monitor collects its job's progress events (one scheduler call)


@dataclasses.dataclass
class _Job:
    id: int
    key: str  # its task's name on the cluster, unique across servers sharing one
    workspace: str
    folder: Path  # the models folder its model is saved into
    preset: str
    name: str
    recipe: Recipe | None  # None for a fine-tune job
    limit: int | None
    task: Callable  # work.train_task or work.finetune_task, and its arguments after the key
    arguments: tuple
    kind: JobKind = JobKind.TRAIN
    epochs: int = 0  # planned
    state: JobState = JobState.QUEUED
    history: list[EpochEnd] = dataclasses.field(default_factory=list)
    curve: list[CurvePoint] = dataclasses.field(default_factory=list)
    batch: BatchProgress | None = None
    # The first progress after the first compiled call (time.time(), overall progress): the job's own
    # pace is measured from here, leaving out tracing and compiling.
    pace_reference: tuple[float, float] | None = None
    estimated_seconds: float | None = None  # what the page estimated before the click (queue left out)
    result: Outcome | None = None
    error: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    dispatched_at: float | None = None
    finished_at: float | None = None
    fit_started_at: float | None = None
    ended: threading.Event = dataclasses.field(default_factory=threading.Event)


@dataclasses.dataclass(frozen=True)
class JobView:
    """What one workspace's page shows: its own job, where it stands, and the queue as counts only."""

    job: JobSnapshot | None
    position: int | None  # 1-based among the waiting jobs; None when it is not waiting
    waiting: int  # every workspace's waiting jobs
    running: int  # every workspace's running jobs
    capacity: int  # jobs that run at once
    starts_in_seconds: float | None  # a rough guess for a waiting job; None when nothing is known yet


class JobManager:
    """Queues jobs from any number of workspaces and runs up to the cluster's worker count at once.

    One manager per server (the app keeps it in st.cache_resource); by default it uses the process's
    shared Cluster, embedded or remote (DIGITCORE_CLUSTER), connected when the first job is dispatched. `models_directory` is
    the shared models folder: shipped models, read-only for visitors, and the home of jobs started
    without a workspace (the CLI's and scripts'). A monitor thread per running job turns its events
    into state under a lock, so any page can read a snapshot whenever it likes; a rerun, a page
    switch or a closed tab leaves the job running.
    """

    def __init__(self, models_directory: Path | str | None = None, cluster: Cluster | None = None) -> None:
        self._lock = threading.Lock()
        self._dispatch_lock = threading.Lock()  # one dispatcher at a time; never held with _lock across a call out
        self._ids = itertools.count(1)
        self._models_directory = Path(models_directory) if models_directory is not None else None
        self.cluster = cluster or clusters.shared()
        self._queue = FairQueue()
        self._latest: dict[str, _Job] = {}  # each workspace's latest job
        self._jobs: dict[int, _Job] = {}
        self._durations: list[float] = []  # seconds on a worker of the jobs this server finished
        self.on_finish: list[Callable[[JobSnapshot], None]] = []  # called in a monitor thread
        self._identity = job_record.process_identity(os.getpid())
        self._previous: dict[str, JobSnapshot | None] = {}  # the records dead servers left, read once

    @property
    def models_directory(self) -> Path:
        return self._models_directory or registry.models_dir()

    def folder_for(self, workspace: Workspace | None) -> Path:
        """Where a workspace's models go: its own folder; without one, the shared models folder."""
        return workspace.models_dir if workspace is not None else self.models_directory

    # --- asking for jobs

    def start(
        self,
        preset: str,
        *,
        name: str,
        recipe: Recipe | None = None,
        limit: int | None = None,
        seed: int = 0,
        workspace: Workspace | None = None,
        estimated_seconds: float | None = None,
        accuracy_floor: float | None = None,
    ) -> JobSnapshot:
        """Queue training `preset`, to be saved as `name` in the workspace's models folder.
        `estimated_seconds` (the page's estimate before the click) steadies the time left until the
        job's own pace is known; a test accuracy below `accuracy_floor` (estimates.Expectation.floor:
        far below what runs like it reached) is saved with a warning.

        Raises JobBusy when the workspace already has a job waiting or running, ValueError for a bad
        preset, recipe, subset size or name (including a name taken there or by a shipped model)."""
        folder = self.folder_for(workspace)
        request = TrainRequest(preset, name, recipe, limit, seed).validated(folder)
        assert request.recipe is not None  # validated() always sets one
        self._refuse_shipped_name(request.name, workspace)
        job = self._new_job(
            workspace,
            request.preset,
            request.name,
            request.recipe,
            request.limit,
            work.train_task,
            (request.preset, request.recipe, request.seed, request.limit, request.name, accuracy_floor),
            epochs=request.recipe.epochs,
            estimated_seconds=estimated_seconds,
        )
        return self._enqueue(job)

    def start_finetune(
        self,
        parent: Path | str,
        x_samples,
        y_samples,
        *,
        name: str,
        epochs: int = limits.FINETUNE_DEFAULT_EPOCHS,
        user_examples: int = 3000,
        workspace: Workspace | None = None,
    ) -> JobSnapshot:
        """Queue fine-tuning the saved model `parent` (a path, or a name in the workspace's folder) on
        the visitor's digits (uint8 (n, 28, 28), labels), to be saved as `name`. Shares the queue's
        rules with training: JobBusy, or ValueError for no digits, bad epochs, a bad or taken name."""
        folder = self.folder_for(workspace)
        request = FinetuneRequest(str(parent), x_samples, y_samples, name, epochs, user_examples).validated(folder)
        assert request.parent is not None and request.name is not None  # validated() always sets both
        self._refuse_shipped_name(request.name, workspace)
        parent_path = Path(request.parent)
        card_path = parent_path.with_suffix(".json")
        parent_model = work.SavedModel(
            parent_path.stem, parent_path.read_bytes(), card_path.read_text() if card_path.exists() else None
        )
        job = self._new_job(
            workspace,
            parent_path.stem,
            request.name,
            None,
            None,
            work.finetune_task,
            (parent_model, request.x_samples, request.y_samples, request.epochs, request.user_examples, request.name),
            kind=JobKind.FINETUNE,
            epochs=request.epochs,
        )
        return self._enqueue(job)

    def _refuse_shipped_name(self, name: str, workspace: Workspace | None) -> None:
        """A visitor's model may not take a shipped model's name: pickers would show two of it."""
        if workspace is not None and (self.models_directory / f"{name}.keras").exists():
            raise ValueError(f"A model named '{name}' already exists. Choose another name.")

    def _new_job(self, workspace, preset, name, recipe, limit, task, arguments, **fields) -> _Job:
        number = next(self._ids)
        return _Job(
            id=number,
            key=f"digitcore-job-{os.getpid()}-{number}-{uuid.uuid4().hex[:8]}",
            workspace=workspace.key if workspace is not None else "",
            folder=self.folder_for(workspace),
            preset=preset,
            name=name,
            recipe=recipe,
            limit=limit,
            task=task,
            arguments=arguments,
            **fields,
        )

    def _enqueue(self, job: _Job) -> JobSnapshot:
        with self._lock:
            self._queue.add(job.id, job.workspace, label=self._active_label(job.workspace))
            self._jobs[job.id] = job
            self._latest[job.workspace] = job
            self._write_record(job)
            snapshot = self._snapshot(job)
        # In a thread of its own: the first dispatch starts the embedded cluster (seconds), and a
        # visitor's click should not wait for it.
        threading.Thread(target=self._dispatch, name="job-dispatch", daemon=True).start()
        return snapshot

    def _active_label(self, workspace: str) -> str:
        """How a refusal names the workspace's active job (call with the lock held)."""
        active = self._queue.active_job(workspace)
        if active is None:
            return "Your job"
        job = self._jobs[active]
        return f"Your {'training' if job.kind == JobKind.TRAIN else 'fine-tuning'} job '{job.name}'"

    # --- running them

    def _dispatch(self) -> None:
        """Start waiting jobs, oldest first, while workers are free."""
        with self._dispatch_lock:
            with self._lock:
                if not self._queue.waiting:
                    return
            try:
                capacity = self.cluster.capacity()  # connects (or starts the embedded cluster) on first use
            except Exception:
                log.exception("Could not reach the training cluster")
                self._fail_waiting(CLUSTER_DOWN_MESSAGE)
                return
            with self._lock:
                starting = [self._jobs[job_id] for job_id in self._queue.take(capacity)]
                for job in starting:
                    job.state, job.dispatched_at = JobState.STARTING, time.time()
                    self._write_record(job)
            for job in starting:
                try:
                    future = self.cluster.submit(job.task, job.key, *job.arguments, key=job.key)
                except Exception:
                    log.exception("Could not submit the job %s", job.name)
                    self._end(job, None, CLUSTER_DOWN_MESSAGE)
                    continue
                threading.Thread(
                    target=self._monitor, args=(job, future), name=f"monitor-{job.name}", daemon=True
                ).start()

    def _fail_waiting(self, message: str) -> None:
        with self._lock:
            waiting = [job for job in self._jobs.values() if job.state == JobState.QUEUED]
            for job in waiting:
                self._queue.cancel(job.id)
        for job in waiting:
            self._end(job, None, message, dispatch=False)

    def _monitor(self, job: _Job, future) -> None:
        """Follow a running job's events until its task ends, then save what it returned."""
        events = self.cluster.events(job.key)
        while True:
            # done first, then read: the task sent its last events before it returned
            done = future.done()
            try:
                for event in events.get(batch=True):  # what has arrived, without waiting on the scheduler
                    self._apply(job, work.event_from_dict(event))
            except Exception as problem:  # the scheduler went away, or a stray message: the task's end tells
                log.warning("Job %s: reading its events failed: %s", job.name, problem)
            if done:
                break
            time.sleep(EVENT_POLL_SECONDS)
        result, error = None, None
        try:
            outcome = future.result()
        except Exception as failure:
            # KilledWorker, a lost connection or a cancelled task: the job's worker is gone
            log.error(
                "Job %s (%s) ended without a result: %s: %s", job.name, job.preset, type(failure).__name__, failure
            )
            error = work.WORKER_LOST_MESSAGE
        else:
            result, error = self._keep(job, outcome)
        self._end(job, result, error)
        self.cluster.forget(job.key)

    def _keep(self, job: _Job, outcome) -> tuple[Outcome | None, str | None]:
        """Save the model a finished task returned into the job's folder; (result, None) or (None, why not)."""
        if isinstance(outcome, work.Failed):
            if outcome.details:
                log.error("Job %s (%s) failed:\n%s", job.name, job.preset, outcome.details)
            return None, outcome.message or NO_RESULT_MESSAGE
        if not isinstance(outcome, work.Finished):
            log.error("Job %s (%s) returned %r", job.name, job.preset, outcome)
            return None, NO_RESULT_MESSAGE
        result, model = outcome.result, outcome.model
        if model is None:
            return result, None
        try:
            card = ModelCard.from_json(model.card_json) if model.card_json else ModelCard()
            path = registry.save_bytes(model.model_bytes, card, job.name, job.folder, overwrite=False)
        except Exception as error:
            sentence = errors.sentence_for(error, errors.Audience.JOB)
            if sentence is None:
                log.exception("Job %s: saving its model failed", job.name)
            return None, sentence or NO_RESULT_MESSAGE
        return (
            dataclasses.replace(result, model=str(path)) if isinstance(result, (TrainDone, FinetuneDone)) else result
        ), None

    def _end(self, job: _Job, result: Outcome | None, error: str | None, *, dispatch: bool = True) -> None:
        if error is not None:
            state = JobState.FAILED
        elif isinstance(result, FinetuneDone) or (isinstance(result, TrainDone) and not result.stopped):
            state = JobState.DONE
        else:
            state = JobState.STOPPED  # before the first epoch ended (nothing saved) or later (finished epochs saved)
        with self._lock:
            job.result, job.state, job.error, job.finished_at = result, state, error, time.time()
            self._queue.finish(job.id)
            if job.dispatched_at is not None and state == JobState.DONE:
                self._durations.append(job.finished_at - job.dispatched_at)
            self._write_record(job)
            snapshot = self._snapshot(job)
        job.ended.set()
        for callback in list(self.on_finish):
            try:
                callback(snapshot)
            except Exception:
                log.exception("A job-finish callback failed")
        if dispatch:
            self._dispatch()

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

    # --- what pages ask

    def stop(self, workspace: Workspace | None = None) -> bool:
        """Stop the workspace's own job: at once when it waits, after its current batch when it runs.
        False when the workspace has no active job (another workspace's job cannot be named here)."""
        key = workspace.key if workspace is not None else ""
        with self._lock:
            job = self._latest.get(key)
            if job is None or job.state not in ACTIVE_STATES:
                return False
            queued = job.state == JobState.QUEUED and self._queue.cancel(job.id)
            if not queued:
                job.state = JobState.STOPPING
        if queued:
            self._end(job, NothingSaved(name=job.name, message=QUEUED_STOP_MESSAGE), None, dispatch=False)
        else:
            self.cluster.stop_signal(job.key).set()
        return True

    def snapshot(self, workspace: Workspace | None = None) -> JobSnapshot | None:
        """The workspace's current (or last) job; before it ran one on this server, the last job a
        server that used its folder before left (shown 'interrupted' if it died meanwhile); else None."""
        key = workspace.key if workspace is not None else ""
        with self._lock:
            job = self._latest.get(key)
            if job is not None:
                return self._snapshot(job)
            if key not in self._previous:
                self._previous[key] = job_record.read_previous(self.folder_for(workspace), self._identity)
            return self._previous[key]

    def view(self, workspace: Workspace | None = None) -> JobView:
        """The workspace's job with its place in the queue, and the queue's size (no other names)."""
        snapshot = self.snapshot(workspace)
        capacity = self.cluster.known_capacity()
        with self._lock:
            place = self._queue.place(workspace.key if workspace is not None else "")
            typical = sum(self._durations) / len(self._durations) if self._durations else None
        starts_in = None
        if place.position is not None and typical is not None:
            # Jobs ahead start in rounds of `capacity`; a running one is about half done on average.
            starts_in = (math.ceil(place.position / capacity) - 0.5) * typical
        return JobView(snapshot, place.position, place.waiting, place.running, capacity, starts_in)

    def wait(self, timeout: float | None = None, workspace: Workspace | None = None) -> JobSnapshot | None:
        """Block until the workspace's current job has ended (for scripts and tests)."""
        with self._lock:
            job = self._latest.get(workspace.key if workspace is not None else "")
        if job is not None:
            job.ended.wait(timeout)
        return self.snapshot(workspace)

    def worker_process(self, workspace: Workspace | None = None) -> int | None:
        """The process id of the worker running the workspace's job, on its machine (None if none)."""
        with self._lock:
            job = self._latest.get(workspace.key if workspace is not None else "")
        return None if job is None or job.state == JobState.QUEUED else self.cluster.worker_process(job.key)

    def close(self) -> None:
        """Close its cluster connection (and the embedded cluster); for scripts that are done with it."""
        self.cluster.close()

    # --- the crash record (record.py): what the next server start shows of a job this server did not finish

    def _write_record(self, job: _Job) -> None:
        """Call with the lock held."""
        job_record.write(job.folder, self._snapshot(job), self._identity)

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
            workspace=job.workspace,
            dispatched_at=job.dispatched_at,
            pace_reference=job.pace_reference,
            estimated_seconds=job.estimated_seconds,
        )
