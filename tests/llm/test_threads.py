"""The parallel calls of a job on a shared pool (suite_ai.llm.threads): results in order, the
first failure raised, and no deadlock when the pool's every thread is busy."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from suite_ai.llm import threads


@pytest.fixture
def shared_pool():
    pool = ThreadPoolExecutor(max_workers=2)
    threads.share(pool)
    yield pool
    threads.share(None)
    pool.shutdown(wait=True)


def test_results_come_in_order_and_run_side_by_side(shared_pool):
    barrier = threading.Barrier(3, timeout=10)  # the caller and both pool threads at once

    def call(i: int):
        def run() -> int:
            if i < 3:
                barrier.wait()
            return i * 10

        return run

    assert threads.run_parallel([call(i) for i in range(7)], max_parallel=3) == [0, 10, 20, 30, 40, 50, 60]


def test_a_full_pool_does_not_stop_the_calls(shared_pool):
    release = threading.Event()
    for _ in range(2):  # every thread of the pool held by something else
        shared_pool.submit(release.wait, 30)
    try:
        assert threads.run_parallel([lambda i=i: i for i in range(5)], max_parallel=8) == [0, 1, 2, 3, 4]
    finally:
        release.set()


def test_the_first_failure_is_raised_and_later_calls_do_not_start(shared_pool):
    started: list[int] = []

    def call(i: int):
        def run() -> int:
            started.append(i)
            if i == 1:
                raise ValueError("boom")
            return i

        return run

    with pytest.raises(ValueError, match="boom"):
        threads.run_parallel([call(i) for i in range(50)], max_parallel=1)
    assert started == [0, 1]


def test_without_a_shared_pool_calls_still_run_in_parallel():
    barrier = threading.Barrier(4, timeout=10)
    assert threads.run_parallel([lambda i=i: (barrier.wait(), i)[1] for i in range(4)], max_parallel=4) == [0, 1, 2, 3]
