"""One rate limiter for the model gateway, shared by every worker process through Redis.

Gateways count requests and tokens over a sliding minute (Mistral, Albert), so the limiter keeps
the same books: a log of the last minute's grants per model, checked and written atomically by
one Lua script. (A token bucket would allow up to twice the limit in a minute that straddles a
refill.) ``acquire`` never sleeps: it answers how long to wait, so a Celery task can re-schedule
itself instead of holding a thread. Without Redis (the embedded mode) the log lives in the process.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import redis

from suite_ai.llm.errors import ModelError

WINDOW = 60.5  # a minute, plus a margin for the time a request takes to reach the gateway

# KEYS[1]: the log (sorted set: score = grant time, member = "<id>:<tokens>")
# ARGV: now, window, max requests, max tokens, tokens asked, grant id
_LUA = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_requests, max_tokens, asked = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count = #entries / 2
local wait = 0
if max_requests > 0 and count >= max_requests then
  wait = tonumber(entries[(count - max_requests) * 2 + 2]) + window - now
end
if max_tokens > 0 then
  local used = 0
  for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
  local excess = used + asked - max_tokens
  if excess > 0 then
    for i = 1, #entries, 2 do
      excess = excess - tonumber(string.match(entries[i], ':(%d+)$'))
      if excess <= 0 then wait = math.max(wait, tonumber(entries[i + 1]) + window - now) break end
    end
  end
end
if wait > 0 then return tostring(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[6] .. ':' .. ARGV[5])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
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
        self.prefix = prefix
        self._lock = threading.Lock()
        self._logs: dict[str, deque[tuple[float, int]]] = {}
        self._script = _redis(redis_url).register_script(_LUA) if redis_url else None

    def acquire(self, model: str, tokens: int) -> float:
        """Record one request of ``tokens`` if it fits the last minute's budget; else record nothing
        and return how long until it would fit."""
        if self.limits.unlimited:
            return 0.0
        # A request larger than the whole per-minute budget could never pass: charge the budget.
        tpm = self.limits.tokens_per_minute
        tokens = min(max(0, tokens), tpm) if tpm > 0 else max(0, tokens)
        if self._script is not None:
            args = [time.time(), WINDOW, self.limits.requests_per_minute, tpm, tokens, uuid.uuid4().hex]
            return float(self._script(keys=[f"{self.prefix}:{model}"], args=args))
        return self._acquire_local(model, tokens)

    def _acquire_local(self, model: str, tokens: int) -> float:
        now = time.monotonic()
        with self._lock:
            log = self._logs.setdefault(model, deque())
            while log and log[0][0] <= now - WINDOW:
                log.popleft()
            wait = 0.0
            rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
            if rpm > 0 and len(log) >= rpm:
                wait = log[len(log) - rpm][0] + WINDOW - now
            if tpm > 0:
                excess = sum(t for _, t in log) + tokens - tpm
                for granted_at, used in log:
                    if excess <= 0:
                        break
                    excess -= used
                    if excess <= 0:
                        wait = max(wait, granted_at + WINDOW - now)
            if wait > 0:
                return wait
            log.append((now, tokens))
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
