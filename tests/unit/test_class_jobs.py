"""A class's jobs on a real embedded Dask cluster of two workers: two run at once and both save into
their own workspaces, a third waits its turn and can be stopped at once, a running one stops after its
batch, nobody can stop another's job, and a worker killed mid-job fails its job with a sentence and
saves nothing (the cluster goes on serving the next job)."""

import os
import signal
import time

import pytest

from digitcore import jobs, registry, workspaces
from digitcore.architectures import get_preset

WAIT_SECONDS = 300  # a generous ceiling for waits, never an assertion about speed

pytestmark = pytest.mark.slow


def _recipe(epochs: int):
    return get_preset("larger_cnn").recipe.with_overrides(epochs=epochs, batch_size=64)


@pytest.fixture
def manager(tmp_path, cluster):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    return jobs.JobManager(shipped, cluster=cluster)


@pytest.fixture
def people(workspaces_dir):
    return [workspaces.parse(key, workspaces_dir) for key in ("ann-1", "bob-1", "cid-1")]


def _wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Never happened: {what}")


def _stop_all(manager, people):
    for person in people:
        manager.stop(person)
    for person in people:
        manager.wait(WAIT_SECONDS, workspace=person)


def test_two_jobs_run_at_once_and_each_saves_into_its_own_workspace(manager, people):
    ann, bob, _ = people
    manager.start("larger_cnn", name="ann_model", recipe=_recipe(2), limit=3000, workspace=ann)
    manager.start("larger_cnn", name="bob_model", recipe=_recipe(2), limit=3000, workspace=bob)
    # both on a worker, both past their first batch, at the same moment
    _wait_for(
        lambda: (
            all(manager.snapshot(person).batch is not None for person in (ann, bob)) and manager.view(ann).running == 2
        ),
        "both jobs training at once",
    )
    finals = [manager.wait(WAIT_SECONDS, workspace=person) for person in (ann, bob)]
    assert [final.state for final in finals] == ["done", "done"], [final.error for final in finals]
    assert [final.queue_wait is not None and final.queue_wait >= 0 for final in finals] == [True, True]
    for person, final in zip((ann, bob), finals):
        (entry,) = registry.list_models(person.models_dir)  # its own model, and only its own
        assert entry.name == final.name and entry.problem is None
        assert entry.card.test_accuracy == final.result.test_accuracy and final.result.model == str(entry.path)
        assert len(entry.card.history) == 2 == len(final.history)
    assert registry.list_models(manager.models_directory) == []  # nothing in the shared folder


def test_a_queued_job_waits_its_turn_and_stops_at_once_and_a_running_one_after_its_batch(manager, people):
    ann, bob, cid = people
    for person in (ann, bob):
        manager.start("larger_cnn", name=f"{person.key}_model", recipe=_recipe(30), limit=6000, workspace=person)
    _wait_for(lambda: manager.view(ann).running == 2, "both workers taken")  # dispatch runs in the background
    queued = manager.start("larger_cnn", name="cid_model", recipe=_recipe(1), limit=300, workspace=cid)
    try:
        assert queued.state == "queued"
        view = manager.view(cid)
        assert (view.position, view.waiting, view.capacity) == (1, 1, 2)
        assert manager.view(ann).position is None and manager.view(ann).waiting == 1  # others see counts only
        with pytest.raises(jobs.JobBusy, match="already in the queue or running"):
            manager.start("larger_cnn", name="cid_again", recipe=_recipe(1), limit=300, workspace=cid)
        assert manager.stop(cid) is True  # at once: it never reached a worker
        stopped = manager.snapshot(cid)
        assert stopped.state == "stopped" and stopped.result.message == jobs.QUEUED_STOP_MESSAGE
        assert stopped.dispatched_at is None and manager.view(cid).waiting == 0
        _wait_for(lambda: manager.snapshot(ann).batch is not None, "ann's job training")
        assert manager.stop(ann) is True
        final = manager.wait(WAIT_SECONDS, workspace=ann)
        assert final.state == "stopped" and len(final.history) < 30
        assert manager.snapshot(bob).state in ("starting", "running")  # ann's stop was ann's only
    finally:
        _stop_all(manager, people)
    assert registry.list_models(cid.models_dir) == []


def test_nobody_can_stop_another_workspaces_job(manager, people, workspaces_dir):
    ann, bob, _ = people
    manager.start("larger_cnn", name="ann_model", recipe=_recipe(1), limit=600, workspace=ann)
    try:
        assert manager.stop(bob) is False  # bob has no job; his Stop reaches no one else's
        assert manager.stop(None) is False  # nor does a stop without a workspace
        assert manager.snapshot(bob) is None  # and he does not see ann's job
        final = manager.wait(WAIT_SECONDS, workspace=ann)
        assert final.state == "done", final.error
    finally:
        _stop_all(manager, people)


def test_a_worker_killed_mid_job_fails_the_job_with_a_sentence_and_saves_nothing(manager, people):
    ann, bob, _ = people
    manager.start("larger_cnn", name="doomed", recipe=_recipe(30), limit=6000, workspace=ann)
    _wait_for(lambda: manager.snapshot(ann).batch is not None, "the job training")
    worker = _wait_for(lambda: manager.worker_process(ann), "the worker running the job")
    os.kill(worker, signal.SIGKILL)  # as the OOM killer would
    final = manager.wait(WAIT_SECONDS, workspace=ann)
    assert final.state == "failed" and final.error == jobs.WORKER_LOST_MESSAGE
    assert not final.running and registry.list_models(ann.models_dir) == []
    assert not list(ann.models_dir.glob(".tmp-*"))
    # The cluster replaces the worker and the queue moves on: the next job runs and saves.
    manager.start("larger_cnn", name="next", recipe=_recipe(1), limit=300, workspace=bob)
    assert manager.wait(WAIT_SECONDS, workspace=bob).state == "done"
