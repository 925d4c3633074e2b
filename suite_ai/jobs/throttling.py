"""Per-user submission rate limit: a fixed-window counter in Redis (or in memory when embedded).

Django's cache API is not used on purpose: its cache objects are per asyncio context, so under
the ASGI server every request would open a new Redis connection. One process-wide client does not.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()]


@functools.cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


class _MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts.clear()
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


_memory = _MemoryCounter()


def hit(key: str, window: int) -> int:
    """Count one hit in the current window; returns the count so far."""
    if settings.REDIS_URL:
        pipe = redis_client(settings.REDIS_URL).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window + 1, nx=True)
        count, _ = pipe.execute()
        return int(count)
    return _memory.incr(key, window)


class SubmitThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit, period = parse_rate(str(settings.SUITE_AI_SUBMIT_RATE))
        now = time.time()
        window = int(now // period)
        user: Any = request.user
        count = hit(f"suite_ai:throttle:submit:{user.pk}:{period}:{window}", period)
        if count <= limit:
            return True
        self.wait_seconds = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds
