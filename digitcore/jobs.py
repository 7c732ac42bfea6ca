"""Background training and fine-tuning jobs: one at a time per server, each in its own process,
readable from any session."""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import itertools
import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from digitcore import errors, limits, registry
from digitcore.errors import JobBusy  # noqa: F401 (raised here; pages and tests name it jobs.JobBusy)
from digitcore.events import (BatchProgress, EpochEnd, FinetuneDone, NothingSaved, Outcome, TrainBegin, TrainDone,
                              outcome_from_dict)
from digitcore.job_requests import FinetuneRequest, TrainRequest
from digitcore.records import plain

if TYPE_CHECKING:  # architectures and training import keras: loaded only when a job starts
    from digitcore.architectures import Recipe

log = logging.getLogger(__name__)



class JobState(enum.StrEnum):
    """Where a job is; a str, so records and older callers may compare it with plain text."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its server died while it ran


class JobKind(enum.StrEnum):
    TRAIN = "train"
    FINETUNE = "finetune"


RUNNING_STATES = (JobState.STARTING, JobState.RUNNING, JobState.STOPPING)
FINAL_STATES = (JobState.DONE, JobState.STOPPED, JobState.FAILED, JobState.INTERRUPTED)
RECORD_FOLDER = ".jobs"  # inside the models folder: the last job's record, for the next server start
INTERRUPTED_MESSAGE = ("The server stopped while this job was running, so it did not finish; "
                       "nothing of it was saved. Start it again when you like.")
INTERRUPTED_SAVED_MESSAGE = ("The server stopped while this job was finishing; its model had been saved and is "
                             "in the model picker.")


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

    def __post_init__(self) -> None:
        """Accept the JSON form too (a job record, or a caller that built one by hand): states and
        kinds as text, events and results as dicts. A stopped epoch in an older server's record
        was partial, not an epoch of the saved model, so it is left out."""
        kind = JobKind(self.kind)
        coerced = {
            "state": JobState(self.state),
            "kind": kind,
            "history": [event if isinstance(event, EpochEnd) else EpochEnd.from_dict(event)
                        for event in self.history if isinstance(event, EpochEnd) or not event.get("stopped")],
            "batch": self.batch if self.batch is None or isinstance(self.batch, BatchProgress)
            else BatchProgress.from_dict(self.batch),
            "result": self.result if self.result is None or isinstance(self.result, (TrainDone, FinetuneDone, NothingSaved))
            else outcome_from_dict(self.result, finetune=kind == JobKind.FINETUNE),
        }
        for name, value in coerced.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    def to_record(self) -> dict[str, Any]:
        """The JSON form (the job record a later server reads)."""
        return {field.name: plain(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

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

        if not self.running or self.fit_started_at is None:
            return None
        return estimates.remaining_seconds(self.overall_progress, time.time() - self.fit_started_at)


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
    batch: BatchProgress | None = None
    result: Outcome | None = None
    error: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    finished_at: float | None = None
    fit_started_at: float | None = None
    monitor: threading.Thread | None = None


class _StopFlag:
    """training.StopSignal's interface over a multiprocessing Event."""

    def __init__(self, event) -> None:
        self._event = event

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def _end_with_server(server_pid: int) -> None:
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


def _run_child(server_pid: int, target: Callable, *args) -> None:
    """Entry point of every job process."""
    _end_with_server(server_pid)
    target(*args)


def _process_identity(pid: int) -> str | None:
    """`pid:start-time` of a live process (the start time tells a reused pid apart), None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else f"{pid}:{fields[19]}"
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (not Linux): fall back to "is a process with this pid there"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return f"{pid}:?"


DATA_MISSING_MESSAGE = errors.DATA_MISSING_IN_JOB  # the older name


@dataclasses.dataclass(frozen=True)
class _Finished:
    """The job process's last message when its work returned."""

    result: Outcome


@dataclasses.dataclass(frozen=True)
class _Failed:
    """The job process's last message when its work raised."""

    message: str | None  # a sentence for visitors; None: an internal error
    details: str | None = None  # the traceback, for the server log


def _report(events, work: Callable[[], Outcome]) -> None:
    """Run `work` in a job process and send its final message: the result, or why it failed in a
    sentence a visitor can act on (errors.sentence_for; the traceback goes to the server log unless
    the error's own message says it all)."""
    try:
        events.put(_Finished(work()))
    except Exception as error:
        details = None if isinstance(error, errors.SELF_EXPLAINED) else traceback.format_exc()
        events.put(_Failed(errors.sentence_for(error, errors.Audience.JOB), details))


def _train_in_child(preset: str, recipe, seed: int, limit: int | None, name: str, models_directory: str,
                    events, stop) -> None:
    """The training process: run train_and_save and send every event, then one final message."""
    from digitcore import import_tensorflow_quietly

    import_tensorflow_quietly()
    from digitcore import training
    from digitcore.architectures import get_preset

    _report(events, lambda: training.train_and_save(
        get_preset(preset), recipe=recipe, seed=seed, limit=limit, name=name, command=f"app: train {preset}",
        listener=events.put, stop=_StopFlag(stop), models_directory=Path(models_directory),
    ))


def _finetune_in_child(parent: str, x_samples, y_samples, epochs: int, user_examples: int, name: str,
                       models_directory: str, events, stop) -> None:
    """The fine-tuning process: run training.finetune and send every event, then one final message."""
    from digitcore import import_tensorflow_quietly

    import_tensorflow_quietly()
    from digitcore import training

    _report(events, lambda: training.finetune(
        parent, x_samples, y_samples, epochs=epochs, user_examples=user_examples, name=name,
        listener=events.put, stop=_StopFlag(stop), models_directory=Path(models_directory),
    ))


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
        self._identity = _process_identity(os.getpid())
        self._previous: JobSnapshot | None = None  # the record a dead server left, read once
        self._previous_read = False

    @property
    def models_directory(self) -> Path:
        return self._models_directory or registry.models_dir()

    def start(self, preset: str, *, name: str, recipe: Recipe | None = None, limit: int | None = None,
              seed: int = 0) -> JobSnapshot:
        """Start training `preset` in the background, saving it as `name` in the models folder.

        Raises JobBusy when a job is already running, ValueError for a bad preset, recipe, subset
        size or name (including a name already taken: a visitor must never overwrite a model).
        """
        request = TrainRequest(preset, name, recipe, limit, seed).validated(self.models_directory)
        assert request.recipe is not None  # validated() always sets one
        job = _Job(next(self._ids), request.preset, request.name, request.recipe, request.limit,
                   stop=self._context.Event(), epochs=request.recipe.epochs)
        return self._launch(job, _train_in_child,
                            (request.preset, request.recipe, request.seed, request.limit, request.name,
                             str(self.models_directory)))

    def start_finetune(self, parent: Path | str, x_samples, y_samples, *, name: str,
                       epochs: int = limits.FINETUNE_DEFAULT_EPOCHS, user_examples: int = 3000) -> JobSnapshot:
        """Fine-tune the saved model `parent` on the user's digits (uint8 (n, 28, 28), labels) in the
        background, saving it as `name`. Shares the one-job-at-a-time rule with training: raises
        JobBusy when any job runs, ValueError for no digits, bad epochs, a bad or taken name."""
        request = FinetuneRequest(str(parent), x_samples, y_samples, name, epochs,
                                  user_examples).validated(self.models_directory)
        job = _Job(next(self._ids), Path(request.parent).stem, request.name, None, None, stop=self._context.Event(),
                   kind=JobKind.FINETUNE, epochs=request.epochs)
        return self._launch(job, _finetune_in_child,
                            (request.parent, request.x_samples, request.y_samples, request.epochs,
                             request.user_examples, request.name, str(self.models_directory)))

    def _launch(self, job: _Job, target: Callable, args: tuple) -> JobSnapshot:
        """Start `target(*args, events, stop)` in a child process unless a job already runs."""
        with self._lock:
            if self._current is not None and self._current.state in RUNNING_STATES:
                running = self._current
                doing = "is training" if running.kind == JobKind.TRAIN else "is being fine-tuned"
                raise JobBusy(f"'{running.name}' ({running.preset}) {doing} right now; "
                              "one training job runs at a time. Watch it here or wait for it to finish.")
            events = self._context.Queue()
            process = self._context.Process(target=_run_child, name=f"{job.kind}-{job.name}", daemon=True,
                                            args=(os.getpid(), target, *args, events, job.stop))
            # The monitor thread starts the process: the child's death signal is tied to the thread
            # that forked it, and the monitor lives as long as the job (a script thread does not).
            started = threading.Event()
            failures: list[BaseException] = []
            job.monitor = threading.Thread(target=self._monitor, args=(job, process, events, started, failures),
                                           name=f"monitor-{job.name}", daemon=True)
            job.monitor.start()
            started.wait()
            if failures:
                raise failures[0]
            self._current = job
            self._write_record(job)
            return self._snapshot(job)

    # --- the job record: what the next server start shows of a job this server did not finish ------

    @property
    def _record_path(self) -> Path:
        return self.models_directory / RECORD_FOLDER / "last.json"

    def _write_record(self, job: _Job) -> None:
        """Write the job's state for a later server (call with the lock held). Best effort: a
        read-only or full models folder must not stop a job (saving its model reports that)."""
        record = {**self._snapshot(job).to_record(), "batch": None, "server": self._identity}
        path = self._record_path
        try:
            path.parent.mkdir(exist_ok=True)
            registry.write_atomically(path, json.dumps(record))
        except OSError as error:
            log.warning("Could not write the job record %s: %s", path, error)

    def _read_previous(self) -> JobSnapshot | None:
        """The last job a server that has since died left running, as 'interrupted'; None when there
        is none, or when the server that wrote the record is still alive (not ours to judge)."""
        try:
            record = json.loads(self._record_path.read_text())
            server = record.pop("server")
            snapshot = JobSnapshot(**record)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("Ignoring the unreadable job record %s: %s", self._record_path, error)
            return None
        if server == self._identity or (server and _process_identity(int(server.split(":")[0])) == server):
            return None  # written by a live server, this one or another sharing the folder
        if snapshot.state in RUNNING_STATES:
            # A server killed right after the save's final rename leaves the model complete and in place.
            saved = (self.models_directory / f"{snapshot.name}.keras").exists()
            snapshot = dataclasses.replace(snapshot, state=JobState.INTERRUPTED, batch=None,
                                           error=INTERRUPTED_SAVED_MESSAGE if saved else INTERRUPTED_MESSAGE,
                                           finished_at=self._record_path.stat().st_mtime)
        return snapshot

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
                self._previous, self._previous_read = self._read_previous(), True
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
            id=job.id, preset=job.preset, name=job.name, state=job.state, epochs=job.epochs,
            limit=job.limit, recipe=job.recipe.to_dict() if job.recipe else {}, history=list(job.history),
            batch=job.batch, result=job.result, error=job.error, started_at=job.started_at,
            finished_at=job.finished_at, kind=job.kind, fit_started_at=job.fit_started_at,
        )

    def _apply(self, job: _Job, event: object) -> None:
        with self._lock:
            if isinstance(event, TrainBegin) and job.state == JobState.STARTING:
                job.state = JobState.RUNNING
                job.fit_started_at = time.time()
            elif isinstance(event, BatchProgress):
                job.batch = event
            elif isinstance(event, EpochEnd):
                job.history.append(event)
                self._write_record(job)

    def _monitor(self, job: _Job, process, events, started: threading.Event,
                 failures: list[BaseException]) -> None:
        """Start the child, then follow its events until its final message, or notice that it died."""
        try:
            process.start()
        except BaseException as error:  # reported to _launch, which raises it to the caller
            failures.append(error)
            return
        finally:
            started.set()
        result, error = None, None
        while True:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                if process.is_alive():
                    continue
                process.join()
                log.error("Training job %s (%s): the process ended without a result (exit code %s)",
                          job.name, job.preset, process.exitcode)
                error = "The training process ended unexpectedly; the details are in the server log."
                break
            if isinstance(event, _Finished):
                result = event.result
                break
            if isinstance(event, _Failed):
                if event.details:
                    log.error("Training job %s (%s) failed:\n%s", job.name, job.preset, event.details)
                error = event.message or ("Training failed because of an internal error; "
                                          "the details are in the server log.")
                break
            self._apply(job, event)
        process.join(timeout=30)
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
