"""One rate limiter for the model gateway, shared by every worker process through Redis.

Two token buckets per model — requests per minute and tokens per minute, as Mistral and Albert
contracts state them — checked and debited atomically by one Lua script. ``acquire`` never
sleeps: it answers how long to wait, so a Celery task can re-schedule itself instead of holding
a thread. Without Redis (the embedded mode) the same buckets live in the process.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass

import redis

from suite_ai.llm.errors import ModelError

_LUA = """
local now = tonumber(redis.call('TIME')[1]) + tonumber(redis.call('TIME')[2]) / 1e6
local wait = 0
local states = {}
for i = 1, 2 do
  local key, capacity, cost = KEYS[i], tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  if capacity > 0 then
    local state = redis.call('HMGET', key, 'level', 'at')
    local level, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
    level = math.min(capacity, level + (now - at) * capacity / 60)
    if level < cost then wait = math.max(wait, (cost - level) * 60 / capacity) end
    states[i] = {key, level, cost}
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, 2 do
  if states[i] then
    redis.call('HSET', states[i][1], 'level', states[i][2] - states[i][3], 'at', now)
    redis.call('EXPIRE', states[i][1], 120)
  end
end
return '0'
"""


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = 0  # 0: unlimited
    tokens_per_minute: int = 0

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute <= 0 and self.tokens_per_minute <= 0


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class RateLimiter:
    def __init__(self, limits: Limits, redis_url: str | None = None, prefix: str = "suite_ai:ratelimit") -> None:
        self.limits = limits
        self.redis_url = redis_url
        self.prefix = prefix
        self._lock = threading.Lock()
        self._local: dict[str, tuple[float, float]] = {}
        self._script = _redis(redis_url).register_script(_LUA) if redis_url else None

    def _costs(self, tokens: int) -> tuple[tuple[int, int], tuple[int, int]]:
        # A request larger than the whole per-minute budget could never pass: charge the budget.
        tpm = self.limits.tokens_per_minute
        return (self.limits.requests_per_minute, 1), (tpm, min(tokens, tpm) if tpm > 0 else 0)

    def acquire(self, model: str, tokens: int) -> float:
        """Debit one request and ``tokens`` if both fit now; else debit nothing and return the wait."""
        if self.limits.unlimited:
            return 0.0
        (rpm, one), (tpm, cost) = self._costs(tokens)
        if self._script is not None:
            keys = [f"{self.prefix}:{model}:requests", f"{self.prefix}:{model}:tokens"]
            return float(self._script(keys=keys, args=[rpm, one, tpm, cost]))
        return self._acquire_local(model, [(f"{model}:requests", rpm, one), (f"{model}:tokens", tpm, cost)])

    def _acquire_local(self, model: str, buckets: list[tuple[str, int, int]]) -> float:
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            levels: dict[str, float] = {}
            for key, capacity, cost in buckets:
                if capacity <= 0:
                    continue
                level, at = self._local.get(key, (float(capacity), now))
                level = min(capacity, level + (now - at) * capacity / 60)
                levels[key] = level
                if level < cost:
                    wait = max(wait, (cost - level) * 60 / capacity)
            if wait > 0:
                return wait
            for key, capacity, cost in buckets:
                if capacity > 0:
                    self._local[key] = (levels[key] - cost, now)
            return 0.0

    def acquire_within(self, model: str, tokens: int, max_wait: float) -> None:
        """For the calls fanned out inside one job: wait a little, or hand the job back to the queue."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.acquire(model, tokens)
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise ModelError(
                    "model_rate_limited",
                    "The model's rate limit is reached; the job will resume automatically.",
                    retryable=True,
                    retry_after=wait,
                )
            time.sleep(wait)
