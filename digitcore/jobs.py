"""Background training jobs: one at a time per process, run in a thread, readable from any session."""

from __future__ import annotations

import copy
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from digitcore import registry

if TYPE_CHECKING:  # architectures and training import keras: loaded only when a job starts
    from digitcore.architectures import Recipe

log = logging.getLogger(__name__)

RUNNING_STATES = ("starting", "running", "stopping")
FINAL_STATES = ("done", "stopped", "failed")


class JobBusy(RuntimeError):
    """A training job is already running on this server; str(error) says which."""


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of one job's state, safe to read while the job goes on."""

    id: int
    preset: str
    name: str
    state: str  # "starting" | "running" | "stopping" | "done" | "stopped" | "failed"
    epochs: int  # planned
    limit: int | None
    recipe: dict
    history: list[dict]  # one "epoch" event per finished (or stopped) epoch
    batch: dict | None  # the latest "batch" event: progress inside the current epoch
    result: dict | None  # the final event of train_and_save
    error: str | None  # a sentence for people when state == "failed"
    started_at: float  # time.time()
    finished_at: float | None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def elapsed(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    @property
    def epoch_progress(self) -> float:
        """How far through the current epoch, 0..1 (0 between epochs)."""
        if self.state == "done":
            return 1.0
        if not self.batch or self.batch["epoch"] <= len(self.history):
            return 0.0  # no batch yet, or the latest batch belongs to an epoch that has ended
        return min(1.0, self.batch["step"] / max(1, self.batch["steps"]))

    @property
    def overall_progress(self) -> float:
        """How far through the whole run, 0..1."""
        if self.state == "done":
            return 1.0
        return min(1.0, (len(self.history) + self.epoch_progress) / max(1, self.epochs))


@dataclass
class _Job:
    id: int
    preset: str
    name: str
    recipe: Recipe
    limit: int | None
    stop: threading.Event = field(default_factory=threading.Event)  # what training.StopSignal wraps
    state: str = "starting"
    history: list[dict] = field(default_factory=list)
    batch: dict | None = None
    result: dict | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    thread: threading.Thread | None = None


class JobManager:
    """Runs at most one training job at a time in a background thread.

    The thread never touches any UI: it only updates this object under a lock, so every visitor's
    page can read a snapshot whenever it likes, and a rerun, a page switch or a closed tab leaves
    the job running. One manager per process (the app keeps it in st.cache_resource).
    """

    def __init__(self, models_directory: Path | str | None = None,
                 mnist_loader: Callable[[], object] | None = None) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._current: _Job | None = None
        self._models_directory = Path(models_directory) if models_directory is not None else None
        self._mnist_loader = mnist_loader
        self.on_finish: list[Callable[[JobSnapshot], None]] = []  # called in the job's thread

    @property
    def models_directory(self) -> Path:
        return self._models_directory or registry.models_dir()

    def start(self, preset: str, *, name: str, recipe: Recipe | None = None, limit: int | None = None,
              seed: int = 0, mnist=None) -> JobSnapshot:
        """Start training `preset` in the background, saving it as `name` in the models folder.

        `mnist` (a data.Mnist already in memory) saves loading the digits again; without it the
        manager's loader, or data.load_mnist, is used.

        Raises JobBusy when a job is already running, ValueError for a bad preset, recipe, subset
        size or name (including a name already taken: a visitor must never overwrite a model).
        """
        from digitcore.architectures import get_preset

        chosen = get_preset(preset)
        recipe = recipe or chosen.recipe
        recipe.validate()
        registry.check_name(name)
        if limit is not None and not 2 <= limit <= 60000:
            raise ValueError(f"The training subset must hold between 2 and 60,000 digits, not {limit}.")
        if (self.models_directory / f"{name}.keras").exists():
            raise ValueError(f"A model named '{name}' already exists. Choose another name.")
        with self._lock:
            if self._current is not None and self._current.state in RUNNING_STATES:
                running = self._current
                raise JobBusy(f"'{running.name}' ({running.preset}) is training right now; "
                              "one training job runs at a time. Watch it here or wait for it to finish.")
            job = _Job(next(self._ids), chosen.name, name, recipe, limit)
            self._current = job
            job.thread = threading.Thread(target=self._run, args=(job, seed, mnist), name=f"train-{name}", daemon=True)
            job.thread.start()
            return self._snapshot(job)

    def stop(self) -> bool:
        """Ask the running job to stop after its current batch; False when nothing runs."""
        with self._lock:
            job = self._current
            if job is None or job.state not in RUNNING_STATES:
                return False
            job.stop.set()
            job.state = "stopping"
            return True

    def snapshot(self) -> JobSnapshot | None:
        """The current (or last) job, or None when no job ever ran in this process."""
        with self._lock:
            return self._snapshot(self._current) if self._current else None

    def wait(self, timeout: float | None = None) -> JobSnapshot | None:
        """Block until the current job's thread ends (for scripts and tests)."""
        with self._lock:
            thread = self._current.thread if self._current else None
        if thread is not None:
            thread.join(timeout)
        return self.snapshot()

    def _snapshot(self, job: _Job) -> JobSnapshot:
        return JobSnapshot(
            id=job.id, preset=job.preset, name=job.name, state=job.state, epochs=job.recipe.epochs,
            limit=job.limit, recipe=job.recipe.to_dict(), history=copy.deepcopy(job.history),
            batch=dict(job.batch) if job.batch else None, result=copy.deepcopy(job.result),
            error=job.error, started_at=job.started_at, finished_at=job.finished_at,
        )

    def _listen(self, job: _Job, event: dict) -> None:
        with self._lock:
            if event["event"] == "train_begin" and job.state == "starting":
                job.state = "running"
            elif event["event"] == "batch":
                job.batch = dict(event)
            elif event["event"] == "epoch":
                job.history.append(dict(event))

    def _run(self, job: _Job, seed: int, mnist) -> None:
        from digitcore import training
        from digitcore.architectures import get_preset

        try:
            if mnist is None and self._mnist_loader is not None:
                mnist = self._mnist_loader()
            result = training.train_and_save(
                get_preset(job.preset), recipe=job.recipe, seed=seed, limit=job.limit, name=job.name,
                command=f"app: train {job.preset}", listener=lambda event: self._listen(job, event),
                stop=job.stop, models_directory=self.models_directory, mnist=mnist,
            )
            state, error = ("done" if result["event"] == "done" else "stopped"), None
            if result["event"] == "done" and result.get("stopped"):
                state = "stopped"  # stopped mid-run, but the finished epochs were saved
        except training.TrainingDiverged as diverged:
            result, state, error = None, "failed", str(diverged)
        except Exception:  # the thread must always end in a final state that pages can show
            log.exception("Training job %s (%s) failed", job.name, job.preset)
            result, state = None, "failed"
            error = "Training failed because of an internal error; the details are in the server log."
        with self._lock:
            job.result, job.state, job.error, job.finished_at = result, state, error, time.time()
            snapshot = self._snapshot(job)
        for callback in list(self.on_finish):
            try:
                callback(snapshot)
            except Exception:
                log.exception("A job-finish callback failed")
