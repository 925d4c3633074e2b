"""What each action does: source → model input → model calls → result → write-back.

Knows nothing of HTTP requests; the job engine (``suite_ai.jobs``) calls ``prepare`` at
submission and ``execute`` in the worker, through the ``JobContext`` protocol.
"""

from suite_ai.pipeline import docs_legacy
from suite_ai.pipeline.actions import ACTIONS, catalogue
from suite_ai.pipeline.context import (
    ActionOutcome,
    ActionRequestError,
    Caller,
    CallerKind,
    CallUsage,
    JobCancelled,
    JobContext,
    JobFailure,
)
from suite_ai.pipeline.execute import execute
from suite_ai.pipeline.model import share_worker_threads
from suite_ai.pipeline.requests import PreparedAction, prepare

__all__ = [
    "ACTIONS",
    "ActionOutcome",
    "ActionRequestError",
    "CallUsage",
    "Caller",
    "CallerKind",
    "JobCancelled",
    "JobContext",
    "JobFailure",
    "PreparedAction",
    "catalogue",
    "docs_legacy",
    "execute",
    "prepare",
    "share_worker_threads",
]
