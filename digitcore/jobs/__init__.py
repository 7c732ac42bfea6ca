"""Training and fine-tuning jobs for every visitor: a fair queue, run as tasks on a Dask cluster.

manager.py asks for, queues, follows and saves jobs (JobManager); queue.py holds the queue's rules;
cluster.py connects to the embedded or an existing cluster; work.py is what runs on a worker;
state.py says what a job is; record.py keeps the crash record a later server reads; requests.py
checks what a visitor or a user asks for. The names callers use are re-exported here
(`from digitcore import jobs; jobs.JobManager`).
"""

from digitcore import errors
from digitcore.errors import JobBusy
from digitcore.jobs.cluster import Cluster
from digitcore.jobs.manager import CLUSTER_DOWN_MESSAGE, QUEUED_STOP_MESSAGE, JobManager, JobView
from digitcore.jobs.queue import FairQueue, Place
from digitcore.jobs.record import INTERRUPTED_MESSAGE, INTERRUPTED_SAVED_MESSAGE, RECORD_FOLDER
from digitcore.jobs.requests import FinetuneRequest, TrainRequest
from digitcore.jobs.state import ACTIVE_STATES, FINAL_STATES, RUNNING_STATES, JobKind, JobSnapshot, JobState
from digitcore.jobs.work import WORKER_LOST_MESSAGE

DATA_MISSING_MESSAGE = errors.DATA_MISSING_IN_JOB  # the older name

__all__ = [
    "ACTIVE_STATES",
    "CLUSTER_DOWN_MESSAGE",
    "DATA_MISSING_MESSAGE",
    "FINAL_STATES",
    "INTERRUPTED_MESSAGE",
    "INTERRUPTED_SAVED_MESSAGE",
    "QUEUED_STOP_MESSAGE",
    "RECORD_FOLDER",
    "RUNNING_STATES",
    "WORKER_LOST_MESSAGE",
    "Cluster",
    "FairQueue",
    "FinetuneRequest",
    "JobBusy",
    "JobKind",
    "JobManager",
    "JobSnapshot",
    "JobState",
    "JobView",
    "Place",
    "TrainRequest",
]
