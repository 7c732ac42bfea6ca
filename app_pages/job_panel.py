"""The background job's live panel, shared by Train and My digits: polling, progress, Stop and how the
job ended. Each page says what its own job looks like once saved; not registered as a page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app_pages import common
from digitcore import estimates, jobs
from digitcore.events import FinetuneDone, NothingSaved, Outcome, TrainDone
from digitcore.jobs import JobState

POLL_SECONDS = 1.0  # while a job runs
IDLE_POLL_SECONDS = 5.0  # otherwise, to notice a job another visitor starts

ShowJob = Callable[[jobs.JobSnapshot | None], None]


def _stop() -> None:
    common.job_manager().stop(common.workspace())  # only ever this visitor's own job


def show_queue(view: jobs.JobView, *, stop_key: str) -> None:
    """Where this visitor's job stands in the class's queue (others' jobs only as counts), with Stop
    while it waits; or, with no job of theirs waiting, how busy the workers are."""
    snapshot = view.job
    if snapshot is not None and snapshot.state == JobState.QUEUED:
        when = (
            f", starts in about {estimates.duration_text(view.starts_in_seconds)}"
            if view.starts_in_seconds is not None
            else ""
        )
        st.info(
            f"Your job **{snapshot.name}** waits in the queue: position {view.position} of {view.waiting}{when}. "
            f"{view.running} of {view.capacity} workers are busy.",
            icon=":material/hourglass_top:",
        )
        st.button("Stop", on_click=_stop, key=stop_key, icon=":material/stop:")
    elif view.waiting or view.running:
        st.caption(f"Training queue: {view.running} of {view.capacity} workers busy, {view.waiting} job(s) waiting.")


def show_progress(snapshot: jobs.JobSnapshot, *, stop_key: str, detailed: bool) -> None:
    """While the job runs: its progress and a Stop button. `detailed`: a bar for the epoch (with its
    step) and one for the whole run with the time left; else one bar for the whole run."""
    if not snapshot.running:
        return
    epoch = min(len(snapshot.history) + 1, snapshot.epochs)
    if detailed:
        batch = snapshot.batch
        step_text = f", step {batch.step} of {batch.steps}" if batch and batch.epoch == epoch else ""
        st.progress(snapshot.epoch_progress, text=f"Epoch {epoch} of {snapshot.epochs}{step_text}")
        eta = snapshot.eta_seconds
        left = f" · {estimates.duration_text(eta)} left" if eta is not None else ""
        st.progress(snapshot.overall_progress, text=f"Whole run: {100 * snapshot.overall_progress:.0f} %{left}")
    else:
        st.progress(
            snapshot.overall_progress,
            text=f"Epoch {epoch} of {snapshot.epochs} · {100 * snapshot.overall_progress:.0f} %",
        )
    st.button(
        "Stop", on_click=_stop, key=stop_key, icon=":material/stop:", disabled=snapshot.state == JobState.STOPPING
    )


def show_ending(snapshot: jobs.JobSnapshot, *, failed: str, saved: Callable[[Outcome], None]) -> None:
    """How the job ended: its failure sentence (`failed` when it has none), the interruption, what it
    saved (drawn by the page's `saved`), or that a stop saved nothing. Nothing while it runs."""
    result = snapshot.result
    if snapshot.state == JobState.FAILED:
        st.error(snapshot.error or failed)
    elif snapshot.state == JobState.INTERRUPTED:
        st.warning(snapshot.error)
    elif isinstance(result, (TrainDone, FinetuneDone)):
        saved(result)
    elif snapshot.state == JobState.STOPPED:
        st.warning(result.message if isinstance(result, NothingSaved) else "Stopped; nothing was saved.")


def _live(show: ShowJob, was_running: bool, doing: str) -> None:
    snapshot = common.my_job()
    started_or_ended = (snapshot is not None and snapshot.active) != was_running
    # It can also end in the moment between the sidebar's picker and the page's own look at the job:
    # the page then saw it ended, but the picker was drawn without the model it saved.
    ended_after_the_picker = (
        snapshot is not None and snapshot.finished_at is not None and common.models_listed_before(snapshot.finished_at)
    )
    if started_or_ended or ended_after_the_picker:
        st.rerun()  # this visitor's job started or ended: redraw the page's buttons and picker
    with common.friendly_errors(doing):  # a fragment's rerun skips the page's own guard
        show(snapshot)


def live_panel(show: ShowJob, *, running: bool, doing: str) -> None:
    """Draw `show(snapshot)` of this visitor's job (None: no job yet) now and again every POLL_SECONDS
    while it waits or runs, else every IDLE_POLL_SECONDS; their job starting or ending reruns the page."""
    st.fragment(run_every=POLL_SECONDS if running else IDLE_POLL_SECONDS)(_live)(show, running, doing)
