"""The Mistral gateway: the official ``mistralai`` SDK (3.x), streaming, against Mistral's API or
any Mistral-compatible ``server_url`` (Albert API, vLLM).

One client per process and configuration (``get_gateway``), shared by every thread: a worker runs
hundreds of jobs in threads, each waiting on a model call, so its connections are sized for that
(``max_connections``, 1024 by default; httpx's default of 100 would queue them) and spread over
small pools, one per group of threads (``_ThreadShardedTransport``). Its timeouts are explicit
(``timeout_s`` between bytes, ``connect_timeout_s``). The SDK's own retries stay off:
every failure is raised at once as a classified ``ModelError`` and the caller re-schedules.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
from mistralai.client import Mistral, errors, models

from suite_ai.llm import sdk_speedup
from suite_ai.llm.config import LLMSettings
from suite_ai.llm.errors import TIMEOUT, UNAVAILABLE, ModelError, classify_exception
from suite_ai.llm.tokens import approximate_tokens
from suite_ai.llm.usage import CallUsage

sdk_speedup.install()

__all__ = ["ChatResult", "Gateway", "LLMSettings", "Messages", "get_gateway"]

Messages = list[dict[str, str]]
_TRANSPORT_ERRORS = (errors.MistralError, httpx2.HTTPError, OSError)
_DEFAULT: Any = object()
_DRAIN_LIMIT = 64 * 1024
_CONNECTIONS_PER_SHARD = 8
_KEEPALIVE_EXPIRY = 30.0
_MESSAGE_TYPES: dict[str, Any] = {
    "system": models.SystemMessage,
    "user": models.UserMessage,
    "assistant": models.AssistantMessage,
}


def _sdk_messages(messages: Messages) -> list[Any]:
    """The SDK's own message models, because given plain dicts the SDK re-validates each one
    through a throw-away pydantic model on every call (measured in docs/performance.md)."""
    return [_MESSAGE_TYPES[m["role"]](**m) if m.get("role") in _MESSAGE_TYPES else m for m in messages]


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    ttft_ms: int | None  # time to the first content delta (JSON calls: the whole latency)
    finish_reason: str  # stop | length | model_length | tool_calls …
    usage_estimated: bool = False  # the gateway reported no usage (some vLLM streams): estimated

    def usage(self, stage: str = "single", index: int = 0, attempts: int = 1) -> CallUsage:
        return CallUsage(
            model=self.model,
            stage=stage,
            index=index,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_ms=self.latency_ms,
            ttft_ms=self.ttft_ms,
            attempts=attempts,
            finish_reason=self.finish_reason,
            usage_estimated=self.usage_estimated,
        )


class _Stream:
    """What a stream has said so far; turned into a ChatResult at its end."""

    __slots__ = ("completion_tokens", "finish", "first", "messages", "model", "parts", "prompt_tokens", "started")

    def __init__(self, model: str, messages: Messages) -> None:
        self.started = time.monotonic()
        self.first: float | None = None
        self.parts: list[str] = []
        self.finish = ""
        self.prompt_tokens = self.completion_tokens = 0
        self.model = model
        self.messages = messages

    def feed(self, chunk: Any) -> str:
        if chunk.model:
            self.model = chunk.model
        usage = chunk.usage
        if usage is not None:
            self.prompt_tokens = usage.prompt_tokens or self.prompt_tokens
            self.completion_tokens = usage.completion_tokens or self.completion_tokens
        delta = ""
        for choice in chunk.choices:
            content = choice.delta.content
            if content:
                delta += content if isinstance(content, str) else _text_of(content)
            if choice.finish_reason:
                self.finish = str(choice.finish_reason)
        if delta:
            if self.first is None:
                self.first = time.monotonic()
            self.parts.append(delta)
        return delta

    def check_deadline(self, deadline_s: float | None) -> None:
        if deadline_s is not None and time.monotonic() - self.started > deadline_s:
            raise ModelError(TIMEOUT, "The model took too long to answer.", retryable=True)

    def result(self) -> ChatResult:
        if not self.finish:
            # The stream ended without saying why: a cut connection, not a complete answer.
            raise ModelError(UNAVAILABLE, "The model's answer was cut off.", retryable=True)
        if self.finish == "error":
            raise ModelError(UNAVAILABLE, "The model stopped with an error.", retryable=True)
        text = "".join(self.parts)
        estimated = not self.prompt_tokens
        return ChatResult(
            text=text,
            model=self.model,
            prompt_tokens=self.prompt_tokens or sum(approximate_tokens(m["content"]) for m in self.messages),
            completion_tokens=self.completion_tokens or (approximate_tokens(text) if estimated else 0),
            latency_ms=round((time.monotonic() - self.started) * 1000),
            ttft_ms=round((self.first - self.started) * 1000) if self.first is not None else None,
            finish_reason=self.finish,
            usage_estimated=estimated,
        )


def _text_of(content: Any) -> str:
    """Text of a content given as a list of chunks (``[{"type": "text", "text": …}]``)."""
    if isinstance(content, str):
        return content
    parts = []
    for part in content or ():
        text = getattr(part, "text", None)
        if text is None and isinstance(part, dict):
            text = part.get("text")
        if isinstance(text, str):
            parts.append(text)
    return "".join(parts)


class _ReusableStream(httpx2.SyncByteStream):
    """A streamed response body that, once the answer is known complete, reads its last bytes
    before closing, so its connection goes back to the pool. The SDK stops reading at
    ``data: [DONE]`` and closes the response before the end of the chunked body, which makes
    httpx drop the connection: every streamed call would open (and, over TLS, handshake) a new one."""

    def __init__(self, inner: httpx2.SyncByteStream) -> None:
        self._inner = inner
        self._iterator: Iterator[bytes] | None = None
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        self._iterator = iter(self._inner)
        return self._iterator

    def close(self) -> None:
        if self.complete and self._iterator is not None:
            drained = 0
            try:
                for chunk in self._iterator:  # "[DONE]" and the end of the chunked body: already sent
                    drained += len(chunk)
                    if drained > _DRAIN_LIMIT:
                        break
            except httpx2.HTTPError:
                pass
        self._inner.close()


class _Client(httpx2.Client):
    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        response = super().send(request, **kwargs)
        if kwargs.get("stream") and isinstance(response.stream, httpx2.SyncByteStream):
            response.stream = _ReusableStream(response.stream)
        return response


class _ThreadShardedTransport(httpx2.BaseTransport):
    """Connections spread over small pools; a thread always uses the same one.

    httpcore's pool walks every connection it holds on each request and each response, and
    probes each idle one's socket with ``poll()``, each call a GIL hand-off between threads: the
    work grows with the pool, so small pools keep it to a few probes per request (figures in
    docs/performance.md). A thread has at most one call in flight, so a pool serves a few
    threads. Threads are dealt to pools in turn (not by thread id, which could pile them onto
    one pool)."""

    def __init__(self, max_connections: int) -> None:
        shards = max(1, math.ceil(max_connections / _CONNECTIONS_PER_SHARD))
        per_shard = math.ceil(max_connections / shards)
        limits = httpx2.Limits(
            max_connections=per_shard, max_keepalive_connections=per_shard, keepalive_expiry=_KEEPALIVE_EXPIRY
        )
        # One TLS context for all, because building one loads and parses the whole CA bundle.
        tls = httpx2.create_ssl_context()
        self.shards = [httpx2.HTTPTransport(verify=tls, limits=limits) for _ in range(shards)]
        self._dealt = itertools.count()
        self._local = threading.local()

    def shard(self) -> httpx2.HTTPTransport:
        shard: httpx2.HTTPTransport | None = getattr(self._local, "shard", None)
        if shard is None:
            shard = self._local.shard = self.shards[next(self._dealt) % len(self.shards)]
        return shard

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self.shard().handle_request(request)

    def close(self) -> None:
        for shard in self.shards:
            shard.close()


def _mark_complete(stream: Any) -> None:
    body = getattr(getattr(stream, "response", None), "stream", None)
    if isinstance(body, _ReusableStream):
        body.complete = True


class Gateway:
    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._timeout = httpx2.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self._limits = httpx2.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
            keepalive_expiry=_KEEPALIVE_EXPIRY,
        )
        self.transport = _ThreadShardedTransport(settings.max_connections)
        # ``limits`` still sizes the pools of proxies taken from the environment (HTTPS_PROXY).
        self.http = _Client(follow_redirects=True, timeout=self._timeout, transport=self.transport, limits=self._limits)
        self.client = Mistral(
            api_key=settings.api_key,
            server_url=settings.server_url or None,
            timeout_ms=int(settings.timeout_s * 1000),  # the SDK applies its own 300 s otherwise
            client=self.http,
        )

    def _arguments(
        self,
        model: str,
        messages: Messages,
        *,
        temperature: Any,
        max_tokens: int | None,
        timeout_s: float | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": model, "messages": _sdk_messages(messages), **extra}
        temperature = self.settings.temperature if temperature is _DEFAULT else temperature
        if temperature is not None:
            arguments["temperature"] = temperature
        if max_tokens is not None:
            arguments["max_tokens"] = max_tokens
        if timeout_s is not None:
            arguments["timeout_ms"] = int(timeout_s * 1000)
        return arguments

    def stream_chat(
        self,
        messages: Messages,
        *,
        model: str,
        on_delta: Callable[[str], None],
        temperature: float | None = _DEFAULT,
        max_tokens: int | None = None,
        timeout_s: float | None = None,
        deadline_s: float | None = None,
        **extra: Any,
    ) -> ChatResult:
        """Stream a completion, handing each content delta to ``on_delta``; ModelError on failure.
        An exception raised by ``on_delta`` (e.g. to cancel) closes the stream and propagates as is.
        ``timeout_s``: max gap between bytes; ``deadline_s``: max duration of the whole answer."""
        state = _Stream(model, messages)
        try:
            stream = self.client.chat.stream(
                **self._arguments(
                    model, messages, temperature=temperature, max_tokens=max_tokens, timeout_s=timeout_s, extra=extra
                )
            )
        except _TRANSPORT_ERRORS as error:
            raise classify_exception(error) from None
        with stream:
            events = iter(stream)
            while True:
                try:
                    event = next(events)
                except StopIteration:
                    break
                except _TRANSPORT_ERRORS as error:
                    raise classify_exception(error) from None
                delta = state.feed(event.data)
                if delta:
                    on_delta(delta)
                if state.finish:
                    _mark_complete(stream)
                state.check_deadline(deadline_s)
        return state.result()

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()


_gateways: dict[tuple[object, ...], Gateway] = {}
_lock = threading.Lock()


def get_gateway(settings: LLMSettings) -> Gateway:
    """The process's gateway (one connection pool) for this API key, server and timeouts.
    Thread-safe; create it after a fork (lazily, in the worker), never before."""
    key = (os.getpid(), *settings.connection_key())  # a forked child never inherits its parent's pool
    gateway = _gateways.get(key)
    if gateway is None:
        with _lock:
            gateway = _gateways.get(key)
            if gateway is None:
                gateway = _gateways[key] = Gateway(settings)
    return gateway
