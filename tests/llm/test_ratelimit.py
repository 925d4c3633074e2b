"""The shared model rate limiter: atomic across processes through Redis, never exceeding the contract."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest

from suite_ai.llm.errors import Cancelled, ModelError
from suite_ai.llm.ratelimit import Limits, RateLimiter

REDIS_URL = "redis://127.0.0.1:6379/3"
PER_SECOND = 20  # the contract in these tests: 20 requests per 1-second window (a minute, scaled down)


def _hammer(prefix: str, duration: float, results) -> None:  # runs in a child process
    limiter = RateLimiter(Limits(requests_per_minute=PER_SECOND, period_s=1.0), REDIS_URL, prefix=prefix)
    granted: list[float] = []
    refused = 0
    end = time.time() + duration
    while time.time() < end:
        grant = limiter.try_acquire("mistral-small", 10)
        if grant.granted:
            granted.append(grant.at)  # the limiter's (Redis) clock at the decision
        else:
            refused += 1
            time.sleep(min(grant.wait, 0.01))
    results.put((granted, refused))


def test_two_processes_sharing_the_limiter_never_exceed_the_rate():
    prefix = f"test:{uuid.uuid4()}"
    results: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_hammer, args=(prefix, 3.0, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    (first, refused_1), (second, refused_2) = results.get(timeout=30), results.get(timeout=30)
    for worker in workers:
        worker.join(10)
    assert first and second and refused_1 and refused_2  # both processes competed for the same budget
    granted = sorted(first + second)
    # No window of one period ever holds more than the contract…
    for i in range(len(granted) - PER_SECOND):
        assert granted[i + PER_SECOND] - granted[i] >= 1.0  # (1.02: the limiter's 2 % safety margin)
    # …and the limit is used (at most a full window at start, then 20 per second over 3 s); the lower
    # bound is generous, since a loaded machine may give the two processes little CPU.
    assert 2 * PER_SECOND <= len(granted) <= 4 * PER_SECOND


def test_tokens_per_minute_are_limited_too():
    limiter = RateLimiter(Limits(tokens_per_minute=1000), REDIS_URL, prefix=f"test:{uuid.uuid4()}")
    assert limiter.try_acquire("m", 600).wait == 0
    wait = limiter.try_acquire("m", 600).wait
    assert 60 < wait <= 61.2  # the 600 tokens granted leave the window in a minute (+2 % margin)
    assert limiter.try_acquire("m", 300).wait == 0  # a refused request debited nothing
    assert limiter.try_acquire("m", 200).wait > 0
    # A request larger than the whole budget is charged the budget, so it can pass on an empty window.
    assert (
        RateLimiter(Limits(tokens_per_minute=100), REDIS_URL, prefix=f"test:{uuid.uuid4()}")
        .try_acquire("m", 10**6)
        .wait
        == 0
    )


class SleepRecorder:
    """The limiter's sleep, recorded (and really slept, so that windows pass)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)


@pytest.mark.parametrize("redis_url", [None, REDIS_URL])
def test_try_acquire_never_sleeps_and_acquire_within_hands_back_long_waits(redis_url):
    sleep = SleepRecorder()
    limiter = RateLimiter(Limits(requests_per_minute=1), redis_url, prefix=f"test:{uuid.uuid4()}", sleep=sleep)
    assert limiter.try_acquire("m", 1).wait == 0
    assert limiter.try_acquire("m", 1).wait > 50
    with pytest.raises(ModelError) as caught:
        limiter.acquire_within("m", 1, max_wait=1)
    assert caught.value.code == "model_rate_limited" and caught.value.retryable and caught.value.retry_after > 50
    assert sleep.sleeps == []  # it did not sleep for a wait it could not afford


@pytest.mark.parametrize("redis_url", [None, REDIS_URL])
def test_acquire_within_waits_for_a_short_wait(redis_url):
    sleep = SleepRecorder()
    limits = Limits(requests_per_minute=2, period_s=0.3)
    limiter = RateLimiter(limits, redis_url, prefix=f"test:{uuid.uuid4()}", sleep=sleep)
    waits = [limiter.acquire_within("m", 1, max_wait=2) for _ in range(6)]
    assert waits[:2] == pytest.approx([0, 0], abs=0.05)
    # Six requests at two per 0.3 s window: it slept through at least two windows, each wait short.
    assert sum(sleep.sleeps) >= 0.55 and all(s <= 0.3 * 1.02 + 0.01 for s in sleep.sleeps)
    with pytest.raises(Cancelled):
        limiter.acquire_within("m", 1, max_wait=5, should_cancel=lambda: True)


def test_the_in_process_fallback_is_exact_under_threads():
    limiter = RateLimiter(Limits(requests_per_minute=50, period_s=0.5))
    granted: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        end = time.time() + 1.2
        while time.time() < end:
            grant = limiter.try_acquire("m", 1)
            if grant.granted:
                with lock:
                    granted.append(grant.at)
            else:
                time.sleep(0.005)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted.sort()
    assert len(granted) >= 100
    assert all(granted[i + 50] - granted[i] >= 0.5 for i in range(len(granted) - 50))


def test_limits_are_per_model():
    limiter = RateLimiter(
        Limits(requests_per_minute=100), REDIS_URL, prefix=f"test:{uuid.uuid4()}", per_model={"large": Limits(1)}
    )
    assert limiter.try_acquire("large", 1).wait == 0 and limiter.try_acquire("large", 1).wait > 0
    assert all(limiter.try_acquire("small", 1).wait == 0 for _ in range(50))


def test_an_unreachable_redis_falls_back_to_limiting_in_process():
    limiter = RateLimiter(Limits(requests_per_minute=2), "redis://127.0.0.1:1/0", prefix=f"test:{uuid.uuid4()}")
    assert [limiter.try_acquire("m", 1).wait == 0 for _ in range(3)] == [True, True, False]


def test_no_limits_means_no_waiting():
    limiter = RateLimiter(Limits())
    assert all(limiter.try_acquire("m", 10**6).wait == 0 for _ in range(1000))
