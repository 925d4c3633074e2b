"""The shared model rate limiter: atomic across processes through Redis, never exceeding the contract."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest

from suite_ai.llm.errors import ModelError
from suite_ai.llm.ratelimit import Limits, RateLimiter

REDIS_URL = "redis://127.0.0.1:6379/3"


def _hammer(prefix: str, duration: float, results) -> None:  # runs in a child process
    limiter = RateLimiter(Limits(requests_per_minute=120), REDIS_URL, prefix=prefix)
    granted: list[float] = []
    end = time.time() + duration
    while time.time() < end:
        if limiter.acquire("mistral-small", 10) == 0:
            granted.append(time.time())
        else:
            time.sleep(0.01)
    results.put(granted)


def test_two_processes_sharing_the_limiter_never_exceed_the_rate():
    prefix = f"test:{uuid.uuid4()}"
    results: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_hammer, args=(prefix, 3.0, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    granted = sorted(results.get(timeout=30) + results.get(timeout=30))
    for worker in workers:
        worker.join(10)
    # Both processes together got exactly the contract's 120 requests in the minute, not one more.
    assert len(granted) == 120


def test_tokens_per_minute_are_limited_too():
    limiter = RateLimiter(Limits(tokens_per_minute=1000), REDIS_URL, prefix=f"test:{uuid.uuid4()}")
    assert limiter.acquire("m", 600) == 0
    wait = limiter.acquire("m", 600)
    assert 59 < wait <= 61  # the first 600 tokens leave the window in a minute
    assert limiter.acquire("m", 400) == 0  # a refused request debited nothing: 600 + 400 fit


@pytest.mark.parametrize("redis_url", [None, REDIS_URL])
def test_acquire_never_sleeps_and_acquire_within_hands_back_long_waits(redis_url):
    limiter = RateLimiter(Limits(requests_per_minute=1), redis_url, prefix=f"test:{uuid.uuid4()}")
    assert limiter.acquire("m", 1) == 0
    started = time.monotonic()
    assert limiter.acquire("m", 1) > 59
    assert time.monotonic() - started < 0.5
    with pytest.raises(ModelError) as caught:
        limiter.acquire_within("m", 1, max_wait=1)
    assert caught.value.code == "model_rate_limited" and caught.value.retryable and caught.value.retry_after > 59


def test_no_limits_means_no_waiting():
    limiter = RateLimiter(Limits())
    assert all(limiter.acquire("m", 10**6) == 0 for _ in range(1000))
