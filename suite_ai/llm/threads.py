"""Where the parallel model calls of one job run.

A long job maps its chunks ``Plan.max_parallel`` at a time. Each job used to start a thread pool of
its own for that, so a worker's threads were its configured job threads *plus* up to
``max_parallel`` per running job: 120 jobs of three chunks made 501 threads in a worker set to
256. In a worker, the calls now run on the worker's own pool (``share``: Celery's threads pool
executor), which never holds more threads than it was configured with, and the job's thread works
through its calls itself while waiting, so a job whose helpers find no free thread still
progresses (one call at a time), and no job ever waits on a helper that has not started: a full
pool cannot deadlock. Outside a worker (tests, scripts), a short-lived pool per call, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

_shared: list[Executor] = []  # at most one: the worker's pool


def share(executor: Executor | None) -> None:
    """Run the helpers of parallel calls on ``executor`` (None: back to a pool per call)."""
    _shared.clear()
    if executor is not None:
        _shared.append(executor)


def run_parallel(calls: Sequence[Callable[[], T]], max_parallel: int) -> list[T]:
    """Run ``calls``, at most ``max_parallel`` at once, the caller's thread included; results in
    order. The first failure stops the calls not yet started (those running finish) and the
    failure of the lowest index is raised."""
    if len(calls) == 1:
        return [calls[0]()]
    batch = _Batch(calls)
    helpers = max(0, min(max_parallel, len(calls)) - 1)
    if _shared:
        for _ in range(helpers):
            try:
                _shared[0].submit(batch.work)
            except RuntimeError:  # the pool is shutting down: the caller does the rest
                break
        return batch.finish()
    with ThreadPoolExecutor(max_workers=max(1, helpers), thread_name_prefix="llm-map") as pool:
        for _ in range(helpers):
            pool.submit(batch.work)
        return batch.finish()


class _Batch(Generic[T]):
    def __init__(self, calls: Sequence[Callable[[], T]]) -> None:
        self._calls = calls
        self._results: dict[int, T] = {}
        self._errors: dict[int, BaseException] = {}
        self._next = 0
        self._active = 0
        self._condition = threading.Condition()

    def _take(self) -> int | None:
        with self._condition:
            if self._errors or self._next >= len(self._calls):
                return None
            index, self._next = self._next, self._next + 1
            self._active += 1
            return index

    def work(self) -> None:
        """Take calls until none is left; a helper that starts late finds none and returns."""
        while (index := self._take()) is not None:
            try:
                result = self._calls[index]()
            except BaseException as error:  # handed to the caller's thread, which raises it
                with self._condition:
                    self._errors[index] = error
            else:
                with self._condition:
                    self._results[index] = result
            finally:
                with self._condition:
                    self._active -= 1
                    self._condition.notify_all()

    def finish(self) -> list[T]:
        self.work()
        with self._condition:
            # Only calls already started are waited for: they run on threads that exist.
            self._condition.wait_for(lambda: self._active == 0)
            if self._errors:
                raise self._errors[min(self._errors)]
            return [self._results[index] for index in range(len(self._calls))]
