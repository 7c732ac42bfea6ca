"""The crash record: the last job's state in <models>/.jobs/last.json (one per workspace's models folder), written as it goes, so the next
server start can show a job a dead server left unfinished (as interrupted)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

from digitcore import registry
from digitcore.jobs.state import ACTIVE_STATES, JobSnapshot, JobState

log = logging.getLogger("digitcore.jobs")

RECORD_FOLDER = ".jobs"  # inside the models folder: the last job's record, for the next server start
INTERRUPTED_MESSAGE = (
    "The server stopped while this job was running, so it did not finish; "
    "nothing of it was saved. Start it again when you like."
)
INTERRUPTED_SAVED_MESSAGE = (
    "The server stopped while this job was finishing; its model had been saved and is in the model picker."
)


def process_identity(pid: int) -> str | None:
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


def record_path(models_directory: Path) -> Path:
    return models_directory / RECORD_FOLDER / "last.json"


def write(models_directory: Path, snapshot: JobSnapshot, server: str | None) -> None:
    """Write the job's state for a later server, naming the `server` (process_identity) writing it.
    Best effort: a read-only or full models folder must not stop a job (saving its model reports that)."""
    record = {**snapshot.to_record(), "batch": None, "server": server}
    path = record_path(models_directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        registry.write_atomically(path, json.dumps(record))
    except OSError as error:
        log.warning("Could not write the job record %s: %s", path, error)


def read_previous(models_directory: Path, server: str | None) -> JobSnapshot | None:
    """The last job a server that has since died left running, as 'interrupted'; None when there
    is none, or when the server that wrote the record is still alive (this one, `server`, or
    another sharing the folder: not ours to judge)."""
    path = record_path(models_directory)
    try:
        record = json.loads(path.read_text())
        writer = record.pop("server")
        snapshot = JobSnapshot(**record)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("Ignoring the unreadable job record %s: %s", path, error)
        return None
    if writer == server or (writer and process_identity(int(writer.split(":")[0])) == writer):
        return None
    if snapshot.state in ACTIVE_STATES:  # a queued job is lost with its server too
        # A server killed right after the save's final rename leaves the model complete and in place.
        saved = (models_directory / f"{snapshot.name}.keras").exists()
        snapshot = dataclasses.replace(
            snapshot,
            state=JobState.INTERRUPTED,
            batch=None,
            error=INTERRUPTED_SAVED_MESSAGE if saved else INTERRUPTED_MESSAGE,
            finished_at=path.stat().st_mtime,
        )
    return snapshot
