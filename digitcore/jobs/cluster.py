"""Where jobs run: a Dask distributed cluster, embedded in the app by default or an existing one.

Embedded (no DIGITCORE_CLUSTER): the app starts a LocalCluster of worker processes on first use,
one per core unless DIGITCORE_WORKERS says otherwise, each with one thread (one job at a time), so
`./run.sh` stays one command. With DIGITCORE_CLUSTER=tcp://host:8786 the app is a client of that
cluster, whose workers may run on other machines; they need this project and its packages, and
their own MNIST cache, but no disk shared with the app: a job's model comes back as bytes.

A worker that dies mid-job must fail the job, not run it again somewhere else (a second run would
start over in silence): the embedded scheduler allows no retries, and each task also claims its job
once (work.claim), so an existing cluster with retries allowed fails the job too.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from digitcore import paths

log = logging.getLogger("digitcore.jobs")

EVENTS_SUFFIX = "-events"
STOP_SUFFIX = "-stop"
CLAIM_SUFFIX = "-claim"


def default_workers() -> int:
    configured = os.environ.get(paths.WORKERS_VARIABLE)
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            log.warning("Ignoring %s=%r: not a whole number", paths.WORKERS_VARIABLE, configured)
    return max(1, os.cpu_count() or 1)


class Cluster:
    """A Dask client, and the cluster it started if it started one; connected on first use."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address if address is not None else (os.environ.get(paths.CLUSTER_VARIABLE) or None)
        self.workers = workers or default_workers()
        self._lock = threading.Lock()
        self._client: Any = None
        self._local: Any = None
        self._last_capacity: int | None = None

    @property
    def embedded(self) -> bool:
        return self.address is None

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self):
        import dask
        from distributed import Client, LocalCluster

        if self.address is not None:
            log.info("Training jobs run on the cluster at %s", self.address)
            return Client(self.address, timeout="20s")
        # No retries: a job whose worker died is failed with a sentence, never silently restarted.
        dask.config.set({"distributed.scheduler.allowed-failures": 0})
        self._local = LocalCluster(
            n_workers=self.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
            silence_logs=logging.WARNING,
        )
        log.info("Training jobs run on an embedded cluster of %d worker(s)", self.workers)
        return Client(self._local)

    def capacity(self) -> int:
        """How many jobs may run at once: the worker threads connected now (at least one, so the queue
        moves as soon as a worker joins). Asks the scheduler: the dispatcher calls it, not the pages."""
        self._last_capacity = max(1, sum(self.client().nthreads().values()))
        return self._last_capacity

    def known_capacity(self) -> int:
        """The last capacity() seen, without a call to the scheduler (pages poll this every second);
        before the first, the embedded cluster's planned workers."""
        return self._last_capacity or self.workers

    def submit(self, function: Callable, *args, key: str):
        """Run `function(*args)` as one task named `key` (never cached: every job is new work)."""
        return self.client().submit(function, *args, key=key, pure=False, retries=0)

    def events(self, key: str):
        """The queue a job's task puts its progress events in."""
        from distributed import Queue

        return Queue(key + EVENTS_SUFFIX, client=self.client())

    def stop_signal(self, key: str):
        """The event a job's task polls to stop."""
        from distributed import Event

        return Event(key + STOP_SUFFIX, client=self.client())

    def forget(self, key: str) -> None:
        """Drop a finished job's queue, stop event and claim from the scheduler."""
        from distributed import Event

        try:
            self.stop_signal(key).clear()
            Event(key + CLAIM_SUFFIX, client=self.client()).clear()
        except Exception as error:  # tidying only: a cluster gone away has nothing left to drop
            log.debug("Could not tidy the job %s on the cluster: %s", key, error)

    def worker_process(self, key: str) -> int | None:
        """The process id of the worker running the task `key` (None when none runs it), on that
        worker's machine: tests kill it to see a job fail."""
        client = self.client()
        address = next((address for address, keys in client.processing().items() if key in keys), None)
        return None if address is None else client.run(os.getpid, workers=[address])[address]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._local is not None:
                self._local.close()
            self._client = self._local = None


_shared: Cluster | None = None
_shared_lock = threading.Lock()


def shared() -> Cluster:
    """The process's one cluster from the environment, made (not yet connected) on first use: every
    job manager of a server, however often its pages' caches are cleared, shares its workers."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Cluster()
        return _shared
