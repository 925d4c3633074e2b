"""One rate limiter for the model gateway, shared by every worker process through Redis.

Mistral and Albert contracts state requests per minute and tokens per minute, per model. The
limiter keeps, per model, a sliding-window log of what it granted in the last period (60 s),
checked and debited atomically by one Lua script: a request is granted only if, counting it,
no window of one period holds more than the configured requests or tokens. That holds whatever
way the provider counts (fixed window, sliding window or bucket), so our calls never draw a 429
for a rate we were told.

``try_acquire(model, tokens)`` never sleeps: it grants, or debits nothing and answers how long to
wait, so a Celery task can re-schedule itself instead of holding a thread.
``acquire_within`` is the blocking variant with a bounded wait, for the calls a job fans out.
Without Redis (the embedded mode), or while Redis is unreachable, the same log lives in the
process.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis

from suite_ai.llm.errors import RATE_LIMITED, Cancelled, ModelError

logger = logging.getLogger(__name__)

# KEYS: requests log, tokens log, sequence. ARGV: max requests, max tokens, tokens asked, period (ms).
# Logs are sorted sets scored by grant time (ms, Redis clock); token entries are "<seq>:<tokens>".
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_requests, max_tokens = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, period = tonumber(ARGV[3]), tonumber(ARGV[4])
local cutoff = now - period
local wait = 0
if max_requests > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  local n = redis.call('ZCARD', KEYS[1])
  if n >= max_requests then
    local freeing = redis.call('ZRANGE', KEYS[1], n - max_requests, n - max_requests, 'WITHSCORES')
    wait = math.max(wait, tonumber(freeing[2]) + period - now)
  end
end
if max_tokens > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local used = 0
  for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
  if used + cost > max_tokens then
    local freed = 0
    for i = 1, #entries, 2 do
      freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
      if used - freed + cost <= max_tokens then
        wait = math.max(wait, tonumber(entries[i + 1]) + period - now)
        break
      end
    end
  end
end
if wait > 0 then return {0, tostring(wait / 1000), now} end
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], period * 2 + 1000)
if max_requests > 0 then
  redis.call('ZADD', KEYS[1], now, seq)
  redis.call('PEXPIRE', KEYS[1], period + 1000)
end
if max_tokens > 0 then
  redis.call('ZADD', KEYS[2], now, seq .. ':' .. cost)
  redis.call('PEXPIRE', KEYS[2], period + 1000)
end
return {1, '0', now}
"""


@dataclass(frozen=True)
class Limits:
    """At most ``requests_per_minute`` requests and ``tokens_per_minute`` tokens in any window of
    ``period_s`` seconds (60 by default; benchmarks scale it down). 0 means unlimited."""

    requests_per_minute: int = 0
    tokens_per_minute: int = 0
    period_s: float = 60.0
    # The window we enforce is a little longer than the contract's, so that a request granted just
    # as an old one leaves our window cannot reach the provider before that old one left its own
    # (the two clocks see each request a few milliseconds apart). 2 %: 1.2 s on a minute.
    margin: float = 0.02

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute <= 0 and self.tokens_per_minute <= 0

    @property
    def window_s(self) -> float:
        return self.period_s * (1 + self.margin)


@dataclass(frozen=True)
class Grant:
    granted: bool
    wait: float  # seconds before asking again (0 when granted)
    at: float  # the limiter's clock when decided (Redis time or time.time()), seconds


@functools.cache
def _redis(url: str) -> redis.Redis:
    # One pool per process and URL; the worker's threads share it.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


class _LocalLog:
    """The same sliding-window log, in the process."""

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.used = 0

    def try_acquire(self, limits: Limits, cost: int, now: float) -> float:
        window = limits.window_s
        cutoff = now - window
        while self.requests and self.requests[0] <= cutoff:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= cutoff:
            self.used -= self.tokens.popleft()[1]
        wait = 0.0
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        if rpm > 0 and len(self.requests) >= rpm:
            wait = max(wait, self.requests[len(self.requests) - rpm] + window - now)
        if tpm > 0 and self.used + cost > tpm:
            freed = 0
            for at, tokens in self.tokens:
                freed += tokens
                if self.used - freed + cost <= tpm:
                    wait = max(wait, at + window - now)
                    break
        if wait > 0:
            return wait
        if rpm > 0:
            self.requests.append(now)
        if tpm > 0:
            self.tokens.append((now, cost))
            self.used += cost
        return 0.0


class RateLimiter:
    """``limits`` apply to every model unless ``per_model`` names the model."""

    def __init__(
        self,
        limits: Limits,
        redis_url: str | None = None,
        *,
        prefix: str = "suite_ai:ratelimit",
        per_model: Mapping[str, Limits] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self.per_model = dict(per_model or {})
        self.redis_url = redis_url
        self.prefix = prefix
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._local: dict[str, _LocalLog] = {}
        self._script = _redis(redis_url).register_script(_LUA) if redis_url else None

    def limits_for(self, model: str) -> Limits:
        return self.per_model.get(model, self.limits)

    def try_acquire(self, model: str, tokens: int) -> Grant:
        """Debit one request and ``tokens`` if both fit now; else debit nothing and say how long to wait."""
        limits = self.limits_for(model)
        if limits.unlimited:
            return Grant(True, 0.0, self._clock())
        tpm = limits.tokens_per_minute
        # A request larger than the whole budget could never pass: it is charged the whole budget.
        cost = max(0, min(int(tokens), tpm)) if tpm > 0 else 0
        if self._script is not None:
            keys = [f"{self.prefix}:{model}:requests", f"{self.prefix}:{model}:tokens", f"{self.prefix}:{model}:seq"]
            try:
                granted, wait, now = self._script(
                    keys=keys, args=[limits.requests_per_minute, tpm, cost, int(limits.window_s * 1000)]
                )
                return Grant(bool(granted), float(wait), int(now) / 1000)
            except redis.RedisError as error:  # keep serving, limited per process, until Redis is back
                logger.warning("rate limiter: Redis unavailable (%s); limiting in-process", type(error).__name__)
        now = self._clock()
        with self._lock:
            log = self._local.setdefault(model, _LocalLog())
            wait = log.try_acquire(limits, cost, now)
        return Grant(wait <= 0, max(0.0, wait), now)

    def acquire_within(
        self, model: str, tokens: int, max_wait: float, should_cancel: Callable[[], bool] | None = None
    ) -> float:
        """Blocking variant for calls fanned out inside one job: wait up to ``max_wait`` seconds in
        total, else raise a retryable ``model_rate_limited`` carrying the wait, so the job goes back
        to the queue. Returns the seconds waited."""
        started = time.monotonic()
        while True:
            grant = self.try_acquire(model, tokens)
            if grant.granted:
                return time.monotonic() - started
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            waited = time.monotonic() - started
            if waited + grant.wait > max_wait:
                raise ModelError(
                    RATE_LIMITED,
                    "The model's rate limit is reached; the job will resume automatically.",
                    retryable=True,
                    retry_after=grant.wait,
                )
            self._sleep(min(grant.wait, 1.0) + 0.002)
