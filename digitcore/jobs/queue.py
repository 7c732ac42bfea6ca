"""The class's fair queue: which job runs next, and where each waiting job stands (pure, no engine).

The rules, in one place:
- first come, first served: jobs leave the queue in the order they were asked for;
- at most `capacity` jobs run at once (the workers the cluster has);
- one job per workspace, waiting or running: a workspace cannot fill the queue ahead of others, and
  a second request while its job is active is refused (JobBusy) rather than queued behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from digitcore.errors import JobBusy


@dataclass(frozen=True)
class Place:
    """Where one workspace's job stands: its 1-based position among the waiting jobs (None: it runs),
    and the queue's size as every visitor may see it (counts only, no names)."""

    position: int | None
    waiting: int
    running: int


class FairQueue:
    """Job ids by workspace: waiting in arrival order, or running. Not thread-safe: its owner locks."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, str]] = []  # (job id, workspace), oldest first
        self._running: dict[int, str] = {}

    def add(self, job_id: int, workspace: str, *, label: str = "Your job") -> int:
        """Queue a job; returns its 1-based position. JobBusy when the workspace has an active job."""
        if self.active_job(workspace) is not None:
            raise JobBusy(
                f"{label} is already in the queue or running; each workspace runs one job at a time. "
                "Stop it or wait for it to finish."
            )
        self._waiting.append((job_id, workspace))
        return len(self._waiting)

    def take(self, capacity: int) -> list[int]:
        """The jobs to start now, oldest first, so that at most `capacity` run; they count as running."""
        started = []
        while self._waiting and len(self._running) < capacity:
            job_id, workspace = self._waiting.pop(0)
            self._running[job_id] = workspace
            started.append(job_id)
        return started

    def cancel(self, job_id: int) -> bool:
        """Take a waiting job out of the queue; False when it is not waiting (running or unknown)."""
        for index, (waiting_id, _) in enumerate(self._waiting):
            if waiting_id == job_id:
                del self._waiting[index]
                return True
        return False

    def finish(self, job_id: int) -> None:
        """A running job ended (done, stopped, failed or lost): its worker is free."""
        self._running.pop(job_id, None)

    def active_job(self, workspace: str) -> int | None:
        """The workspace's waiting or running job, if any."""
        for job_id, owner in self._waiting:
            if owner == workspace:
                return job_id
        return next((job_id for job_id, owner in self._running.items() if owner == workspace), None)

    def place(self, workspace: str) -> Place:
        position = next((index for index, (_, owner) in enumerate(self._waiting, start=1) if owner == workspace), None)
        return Place(position=position, waiting=len(self._waiting), running=len(self._running))

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> int:
        return len(self._running)
