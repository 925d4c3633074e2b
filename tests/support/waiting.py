"""Waiting for an outcome in end-to-end tests: poll a condition, never assert on elapsed time."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05) -> T:
    """The first truthy value of ``predicate()``; fails the test when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:.0f} s")


def wait_finished(job_id: str, timeout: float = 60.0):  # -> Job (imported late: Django must be set up)
    """The job once it reached a final state (succeeded, failed, cancelled)."""
    from suite_ai.jobs.models import Job

    def finished() -> Job | None:
        job = Job.objects.get(id=job_id)
        return job if job.is_finished else None

    return wait_for(finished, timeout, interval=0.1)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
