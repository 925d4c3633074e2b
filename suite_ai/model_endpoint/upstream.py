"""Which upstream serves a model, and opening a call to it: the shared limiter first, then the
upstreams in their order, each retried after its ``Retry-After`` within one bounded wait.

Nothing here sleeps on a thread: the waits are ``asyncio.sleep`` and the HTTP client is
``httpx.AsyncClient``, so a call waiting for a rate limit or an answer is a coroutine of the web
process's event loop. The limiter is the one the jobs' model calls use
(``suite_ai.pipeline.model.limiter``: Redis with ``REDIS_URL``, keyed by the upstream's model
name), so the endpoint and the jobs share one budget per model.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from suite_ai.llm.errors import RATE_LIMITED, TIMEOUT, ModelError, classify_status
from suite_ai.llm.ratelimit import RateLimiter
from suite_ai.llm.tokens import approximate_tokens
from suite_ai.model_endpoint.wire import API_ERROR, RATE_LIMIT, WireError
from suite_ai.pipeline.model import limiter
from suite_ai.retrying import backoff_delay

MISTRAL_API = "https://api.mistral.ai"
_UPSTREAM_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class Target:
    upstream: str  # its name: "mistral" or a name of SUITE_AI_MODEL_UPSTREAMS
    base_url: str  # without /v1
    api_key: str
    model: str  # the upstream's name for the model


def routes() -> dict[str, tuple[Target, ...]]:
    """Each model a client may name, and the targets that serve it, in the order they are tried."""
    bases = {"mistral": settings.MISTRAL_SERVER_URL or MISTRAL_API, **settings.SUITE_AI_MODEL_UPSTREAMS}
    keys = {"mistral": settings.MISTRAL_API_KEY or "", **settings.SUITE_AI_MODEL_UPSTREAM_KEYS}
    table: dict[str, tuple[tuple[str, str], ...]] = settings.SUITE_AI_MODEL_ROUTES or {
        str(name): (("mistral", str(name)),) for name in (settings.MISTRAL_MODEL, settings.MISTRAL_MODEL_LONG)
    }
    return {
        name: tuple(Target(upstream, bases[upstream], keys.get(upstream, ""), model) for upstream, model in targets)
        for name, targets in table.items()
    }


@dataclass
class Opened:
    """An upstream that answered 200; its body is still to be read."""

    response: httpx.Response
    target: Target
    attempts: int


class Refused(WireError):
    """No upstream served the call; ``attempts`` and ``target`` (the last tried) for the ledger."""

    def __init__(self, status: int, code: str, message: str, *, kind: str, attempts: int, target: Target | None):
        super().__init__(status, code, message, kind=kind)
        self.attempts, self.target = attempts, target


_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    """The process's client (one connection pool), created on the event loop that uses it."""
    global _client  # noqa: PLW0603
    if _client is None:
        _client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.MISTRAL_TIMEOUT, connect=10.0),
            limits=httpx.Limits(max_connections=1024, max_keepalive_connections=256, keepalive_expiry=30.0),
        )
    return _client


async def close() -> None:
    global _client  # noqa: PLW0603
    if _client is not None:
        await _client.aclose()
        _client = None


async def _acquire(shared: RateLimiter, model: str, tokens: int) -> float:
    """0 when granted, else the seconds to wait. A Redis round trip goes to a thread."""
    if shared.redis_url:
        grant = await asyncio.to_thread(shared.try_acquire, model, tokens)
    else:
        grant = shared.try_acquire(model, tokens)
    return 0.0 if grant.granted else max(grant.wait, 0.001)


def _upstream_message(raw: bytes) -> str:
    """The upstream's own words about a request it refused (for the caller, who sent it)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(body, dict):
        found = body.get("error", body)
        message = found.get("message") if isinstance(found, dict) else found
        if message is None and isinstance(body.get("detail"), list | str):  # FastAPI-style 422s (vLLM)
            message = body["detail"]
        if message is not None:
            return (message if isinstance(message, str) else str(message))[:_UPSTREAM_MESSAGE_LIMIT]
    return ""


async def open_call(targets: tuple[Target, ...], body: dict[str, object], prompt: str) -> Opened:
    """The first target that answers 200, with the request ``body`` (its ``model`` replaced by the
    target's). A 429, or the limiter's refusal, waits and retries the same target while the total
    wait stays within SUITE_AI_MODEL_ENDPOINT_MAX_WAIT; past it, or on a 5xx, a timeout or no
    connection, the next target is tried. A 4xx other than 429 is the request's fault: answered
    at once, with the upstream's status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.SUITE_AI_MODEL_ENDPOINT_MAX_WAIT
    shared = limiter()
    tokens = approximate_tokens(prompt)
    attempts = 0
    last: ModelError | None = None
    for target in targets:
        retries = 0
        while True:
            wait = await _acquire(shared, target.model, tokens)
            if wait:
                if loop.time() + wait > deadline:
                    last = ModelError(RATE_LIMITED, "limiter", retryable=True, retry_after=wait)
                    break
                await asyncio.sleep(wait)
                continue
            attempts += 1
            request = client().build_request(
                "POST",
                f"{target.base_url}/v1/chat/completions",
                json={**body, "model": target.model},
                headers={"Authorization": f"Bearer {target.api_key}", "Accept": "application/json, text/event-stream"},
            )
            try:
                response = await client().send(request, stream=True)
            except httpx.TimeoutException:
                last = ModelError(TIMEOUT, "timeout", retryable=True)
                break
            except (httpx.HTTPError, OSError):
                last = ModelError("model_unavailable", "unreachable", retryable=True)
                break
            if response.status_code == 200:
                return Opened(response, target, attempts)
            raw = b""
            try:
                raw = await response.aread()
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            error = classify_status(
                response.status_code,
                response.headers.get("retry-after"),
                raw.decode("utf-8", "replace"),
                retry_after_ms=response.headers.get("retry-after-ms"),
            )
            if error.code == RATE_LIMITED:
                wait = error.retry_after if error.retry_after is not None else backoff_delay(retries, base=1.0)
                retries += 1
                if loop.time() + wait > deadline:
                    last = ModelError(RATE_LIMITED, "upstream", retryable=True, retry_after=wait)
                    break
                await asyncio.sleep(wait)
                continue
            if error.retryable:  # 5xx, 408, 504: the next upstream
                last = error
                break
            raise _refusal(response.status_code, raw, attempts, target)
    raise _exhausted(last, attempts, targets[-1] if targets else None)


def _refusal(status: int, raw: bytes, attempts: int, target: Target) -> Refused:
    if status in (401, 403, 404):  # our configuration, not the caller's request
        return Refused(
            502,
            "upstream_error",
            f"The upstream {target.upstream!r} refused the call (HTTP {status}): check its key and model name.",
            kind=API_ERROR,
            attempts=attempts,
            target=target,
        )
    message = _upstream_message(raw) or f"The upstream refused the request (HTTP {status})."
    return Refused(
        status, "upstream_rejected_request", message, kind="invalid_request_error", attempts=attempts, target=target
    )


def _exhausted(last: ModelError | None, attempts: int, target: Target | None) -> Refused:
    if last is not None and last.code == RATE_LIMITED:
        refused = Refused(
            429,
            "rate_limit_exceeded",
            "The model's rate limit is reached; retry after the delay in Retry-After.",
            kind=RATE_LIMIT,
            attempts=attempts,
            target=target,
        )
        refused.retry_after = last.retry_after
        return refused
    if last is not None and last.status is not None:  # an upstream answered, with an error
        return Refused(
            502,
            "upstream_error",
            f"The model service failed (HTTP {last.status}).",
            kind=API_ERROR,
            attempts=attempts,
            target=target,
        )
    return Refused(
        503,
        "upstream_unavailable",
        "The model service could not be reached, or did not answer in time.",
        kind=API_ERROR,
        attempts=attempts,
        target=target,
    )


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
