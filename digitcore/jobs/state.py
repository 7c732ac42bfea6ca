"""What a background job is, as every session and a later server read it: its state, its kind and a
consistent snapshot (no Keras, no Streamlit)."""

from __future__ import annotations

import dataclasses
import enum
import time
from typing import Any

from digitcore.events import (
    BatchProgress,
    CurvePoint,
    EpochEnd,
    FinetuneDone,
    NothingSaved,
    Outcome,
    TrainDone,
    outcome_from_dict,
)
from digitcore.records import plain


class JobState(enum.StrEnum):
    """Where a job is; a str, so records and older callers may compare it with plain text."""

    QUEUED = "queued"  # waiting in the class's queue for a free worker
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its server died while it ran

    @property
    def text(self) -> str:
        """How every page writes this state for a person ("finished", never the raw "done")."""
        return _STATE_TEXT[self]


class JobKind(enum.StrEnum):
    TRAIN = "train"
    FINETUNE = "finetune"


_STATE_TEXT = {
    JobState.QUEUED: "waiting in the queue",
    JobState.STARTING: "starting",
    JobState.RUNNING: "training",
    JobState.STOPPING: "stopping",
    JobState.DONE: "finished",
    JobState.STOPPED: "stopped",
    JobState.FAILED: "failed",
    JobState.INTERRUPTED: "interrupted (the server stopped)",
}
RUNNING_STATES = (JobState.STARTING, JobState.RUNNING, JobState.STOPPING)
ACTIVE_STATES = (JobState.QUEUED, *RUNNING_STATES)  # not yet ended: waiting or on a worker
FINAL_STATES = (JobState.DONE, JobState.STOPPED, JobState.FAILED, JobState.INTERRUPTED)


@dataclasses.dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of one job's state, safe to read while the job goes on."""

    id: int
    preset: str  # for a fine-tune job: the parent model's name
    name: str
    state: JobState
    epochs: int  # planned
    limit: int | None
    recipe: dict
    history: list[EpochEnd]  # one per finished epoch
    batch: BatchProgress | None  # the latest progress inside the current epoch
    result: Outcome | None  # what train_and_save or finetune returned
    error: str | None  # a sentence for people when state == "failed"
    started_at: float  # time.time()
    finished_at: float | None
    kind: JobKind = JobKind.TRAIN
    fit_started_at: float | None = None  # time.time() of the first batch's start (train_begin)
    curve: list[CurvePoint] = dataclasses.field(default_factory=list)  # the live curves' points
    # (time.time(), overall progress) at the first progress after the first compiled call
    pace_reference: tuple[float, float] | None = None
    estimated_seconds: float | None = None  # the page's estimate before the click
    workspace: str = ""  # the workspace that started it ("": the manager's own models folder)
    dispatched_at: float | None = None  # time.time() it left the queue for a worker

    def __post_init__(self) -> None:
        """Accept the JSON form too (a job record, or a caller that built one by hand): states and
        kinds as text, events and results as dicts. A stopped epoch in an older server's record
        was partial, not an epoch of the saved model, so it is left out."""
        kind = JobKind(self.kind)
        coerced = {
            "state": JobState(self.state),
            "kind": kind,
            "history": [
                event if isinstance(event, EpochEnd) else EpochEnd.from_dict(event)
                for event in self.history
                if isinstance(event, EpochEnd) or not event.get("stopped")
            ],
            "curve": [point if isinstance(point, CurvePoint) else CurvePoint.from_dict(point) for point in self.curve],
            "pace_reference": None if self.pace_reference is None else tuple(self.pace_reference),
            "batch": self.batch
            if self.batch is None or isinstance(self.batch, BatchProgress)
            else BatchProgress.from_dict(self.batch),
            "result": self.result
            if self.result is None or isinstance(self.result, (TrainDone, FinetuneDone, NothingSaved))
            else outcome_from_dict(self.result, finetune=kind == JobKind.FINETUNE),
        }
        for name, value in coerced.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    def to_record(self) -> dict[str, Any]:
        """The JSON form (the job record a later server reads)."""
        return {field.name: plain(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @property
    def running(self) -> bool:
        """On a worker (starting, training or stopping); a queued job is active but not running."""
        return self.state in RUNNING_STATES

    @property
    def active(self) -> bool:
        """Waiting in the queue or running: not ended yet."""
        return self.state in ACTIVE_STATES

    @property
    def queue_wait(self) -> float | None:
        """Seconds it waited in the queue before a worker took it (None while it still waits)."""
        return None if self.dispatched_at is None else self.dispatched_at - self.started_at

    @property
    def elapsed(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    @property
    def epoch_progress(self) -> float:
        """How far through the current epoch, 0..1 (0 between epochs)."""
        if self.state == JobState.DONE:
            return 1.0
        if not self.batch or self.batch.epoch <= len(self.history):
            return 0.0  # no batch yet, or the latest batch belongs to an epoch that has ended
        return min(1.0, self.batch.step / max(1, self.batch.steps))

    @property
    def overall_progress(self) -> float:
        """How far through the whole run, 0..1."""
        if self.state == JobState.DONE:
            return 1.0
        return min(1.0, (len(self.history) + self.epoch_progress) / max(1, self.epochs))

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until the model is saved, at this job's own pace so far (None when not known)."""
        from digitcore import estimates

        if not self.running:
            return None
        on_worker = time.time() - (self.dispatched_at or self.started_at)  # the estimate leaves out the queue
        planned_left = None if self.estimated_seconds is None else self.estimated_seconds - on_worker
        if self.pace_reference is None:
            return None if planned_left is None else max(estimates.FINISH_SECONDS, planned_left)
        since, progress_then = self.pace_reference
        return estimates.remaining_seconds(
            self.overall_progress, time.time() - since, since_progress=progress_then, planned_left=planned_left
        )
