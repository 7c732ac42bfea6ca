"""A class on one server, without the cluster: the fair queue's rules, workspace keys that cannot name
another folder, and each workspace's digits and models kept apart in the samples store and the registry."""

import sqlite3

import numpy as np
import pytest

from digitcore import cards, jobs, registry, samples, workspaces
from digitcore.jobs.queue import FairQueue, Place

# --- the fair queue -----------------------------------------------------------------------------------


def test_jobs_leave_the_queue_first_come_first_served_up_to_the_capacity():
    queue = FairQueue()
    for job_id, workspace in enumerate(["ann", "bob", "cid", "dan"], start=1):
        assert queue.add(job_id, workspace) == job_id  # its position on arrival
    assert queue.take(capacity=2) == [1, 2]  # the two oldest run
    assert queue.take(capacity=2) == []  # no worker free
    assert queue.place("cid") == Place(position=1, waiting=2, running=2)
    assert queue.place("ann") == Place(position=None, waiting=2, running=2)  # running, not waiting
    queue.finish(2)
    assert queue.take(capacity=2) == [3]  # the oldest waiting one, not the newest
    assert queue.place("dan") == Place(position=1, waiting=1, running=2)


def test_a_workspace_has_one_job_at_a_time_so_nobody_can_fill_the_queue_ahead_of_others():
    queue = FairQueue()
    queue.add(1, "ann")
    with pytest.raises(jobs.JobBusy, match="already in the queue or running; each workspace runs one job at a time"):
        queue.add(2, "ann")  # a second click while the first waits
    queue.add(3, "bob")
    queue.take(capacity=1)
    with pytest.raises(jobs.JobBusy):
        queue.add(4, "ann")  # nor while it runs
    queue.finish(1)
    assert queue.add(5, "ann") == 2  # after it ended, ann queues again, behind bob
    assert queue.take(capacity=1) == [3]  # bob first
    assert queue.take(capacity=2) == [5]


def test_a_waiting_job_can_be_cancelled_and_the_ones_behind_it_move_up():
    queue = FairQueue()
    for job_id, workspace in enumerate(["ann", "bob", "cid"], start=1):
        queue.add(job_id, workspace)
    assert queue.cancel(2) is True
    assert queue.place("cid").position == 2 and queue.active_job("bob") is None
    queue.take(capacity=1)
    assert queue.cancel(1) is False  # running: cancelling is not how a running job stops
    assert queue.place("cid").position == 1


# --- workspace keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../other",
        "..",
        "a/b",
        "a\\b",
        "/etc",
        "~root",
        ".hidden",
        "abc",  # too short to be unguessable as a bookmark
        "x" * 41,
        "ann%2F..",
        "ann\x00",
        "annie\n",  # a pattern anchored with $ alone would let a trailing newline through
        "ann b",
        "'; DROP TABLE samples; --",
        "",
    ],
)
def test_a_key_that_could_name_another_folder_is_refused(tmp_path, key):
    with pytest.raises(workspaces.InvalidWorkspace, match="A workspace key is 4 to 40 letters"):
        workspaces.parse(key, tmp_path)


def test_a_workspace_lives_in_its_own_folder_under_the_workspaces_folder(tmp_path):
    ann = workspaces.parse("ann-1", tmp_path)
    assert ann.folder == tmp_path / "ann-1"
    assert ann.models_dir.parent == ann.samples_path.parent == ann.folder
    fresh = {workspaces.new(tmp_path).key for _ in range(20)}
    assert len(fresh) == 20 and all(workspaces.parse(key, tmp_path).key == key for key in fresh)


# --- isolation in the samples store and the registry ------------------------------------------------------


def test_each_workspace_sees_and_deletes_only_its_own_digits(tmp_path, mnist):
    ann, bob = (samples.SampleStore(workspaces.parse(key, tmp_path).samples_path) for key in ("ann1", "bob1"))
    ann_id = ann.add(mnist.x_test[0], int(mnist.y_test[0]))
    bob.add(mnist.x_test[1], int(mnist.y_test[1]))
    assert [sample.label for sample in ann.list()] == [int(mnist.y_test[0])]
    bob.delete(ann_id)  # bob names ann's id: in bob's own store it names his own first digit, or nothing
    assert ann.count() == 1
    np.testing.assert_array_equal(ann.list()[0].input, mnist.x_test[0])
    x, _ = bob.arrays()
    assert len(x) <= 1 and not any(np.array_equal(image, mnist.x_test[0]) for image in x)
    assert len(ann.export_zip()) > 0 and ann.count() == 1


def test_a_label_carrying_sql_is_refused_and_the_store_is_unharmed(tmp_path, mnist):
    store = samples.SampleStore(tmp_path / "samples.sqlite3")
    store.add(mnist.x_test[0], int(mnist.y_test[0]))
    with pytest.raises((ValueError, TypeError)):
        store.add(mnist.x_test[1], "1; DELETE FROM samples")
    with pytest.raises((ValueError, TypeError)):
        store.list(label="1 OR 1=1")
    with sqlite3.connect(tmp_path / "samples.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM samples").fetchone() == (1,)


def test_a_model_saved_in_one_workspace_is_listed_only_there(tmp_path, trained_models):
    ann, bob = (workspaces.parse(key, tmp_path) for key in ("ann1", "bob1"))
    source = trained_models / "small_cnn.keras"
    card = registry.read_card(source)
    registry.save_bytes(source.read_bytes(), card, "mine", ann.models_dir)
    assert [entry.name for entry in registry.list_models(ann.models_dir)] == ["mine"]
    assert registry.list_models(bob.models_dir) == []
    assert registry.list_models(ann.models_dir)[0].problem is None


def test_model_bytes_that_do_not_match_their_card_are_not_saved(tmp_path, trained_models):
    source = trained_models / "small_cnn.keras"
    card = registry.read_card(source).replace(sha256="0" * 64)
    with pytest.raises(registry.ModelFileError, match="arrived damaged"):
        registry.save_bytes(source.read_bytes(), card, "mine", tmp_path)
    with pytest.raises(registry.ModelFileError):
        registry.save_bytes(b"not a model", cards.ModelCard(), "mine", tmp_path)
    assert list(tmp_path.iterdir()) == []  # no model, no card, no temporary left


def test_a_saved_name_is_never_overwritten_by_model_bytes(tmp_path, trained_models):
    source = trained_models / "small_cnn.keras"
    card = registry.read_card(source)
    registry.save_bytes(source.read_bytes(), card, "mine", tmp_path)
    with pytest.raises(registry.ModelExists):
        registry.save_bytes(
            (trained_models / "small_dense.keras").read_bytes(),
            registry.read_card(trained_models / "small_dense.keras"),
            "mine",
            tmp_path,
        )
    assert registry.sha256_of(tmp_path / "mine.keras") == card.sha256


@pytest.mark.parametrize("name", ["../ann1/models/mine", "/tmp/x", "..", "mine.keras"])
def test_a_model_name_cannot_reach_another_folder(tmp_path, trained_models, name):
    source = trained_models / "small_cnn.keras"
    with pytest.raises(ValueError, match="is not a usable model name"):
        registry.save_bytes(source.read_bytes(), registry.read_card(source), name, tmp_path / "bob1")
