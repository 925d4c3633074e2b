"""The Mistral gateway: one thread-safe SDK client per process, streaming calls, error classification.

A worker process runs hundreds of jobs in threads, each waiting on one model call; they share
one HTTP connection pool sized for that (httpx's default of 100 connections would queue them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from mistralai.client import Mistral, errors

from suite_ai.llm import sdk_speedup
from suite_ai.llm.errors import ModelError, parse_retry_after

sdk_speedup.install()


@dataclass(frozen=True)
class LLMSettings:
    api_key: str
    server_url: str | None = None
    model: str = "mistral-small-latest"
    model_long: str = "mistral-large-latest"
    timeout_s: float = 120.0
    max_connections: int = 1024


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    ttft_ms: int | None
    finish_reason: str


Messages = list[dict[str, str]]


class Gateway:
    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        http = httpx2.Client(
            follow_redirects=True,
            timeout=httpx2.Timeout(settings.timeout_s, connect=10.0),
            limits=httpx2.Limits(
                max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
            ),
        )
        self.client = Mistral(
            api_key=settings.api_key,
            server_url=settings.server_url or None,
            client=http,
            timeout_ms=int(settings.timeout_s * 1000),  # the SDK applies its own 300 s otherwise
        )

    def stream_chat(
        self,
        messages: Messages,
        *,
        model: str,
        on_delta: Callable[[str], None],
        temperature: float = 0.2,
        max_tokens: int | None = None,
    ) -> ChatResult:
        """Stream a completion, handing each delta to ``on_delta``; raises ModelError."""
        started = time.monotonic()
        first: float | None = None
        parts: list[str] = []
        finish = ""
        prompt_tokens = completion_tokens = 0
        served_by = model
        try:
            with self.client.chat.stream(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=max_tokens,
            ) as stream:
                for event in stream:
                    chunk = event.data
                    served_by = chunk.model or served_by
                    if chunk.usage is not None:
                        prompt_tokens = chunk.usage.prompt_tokens or prompt_tokens
                        completion_tokens = chunk.usage.completion_tokens or completion_tokens
                    for choice in chunk.choices:
                        content = choice.delta.content
                        if isinstance(content, str) and content:
                            if first is None:
                                first = time.monotonic()
                            parts.append(content)
                            on_delta(content)
                        if choice.finish_reason:
                            finish = str(choice.finish_reason)
        except errors.SDKError as error:
            raise classify_status(error.status_code, error.headers.get("retry-after"), error.body) from None
        except errors.MistralError as error:
            raise ModelError("model_bad_response", "The model service sent a response we could not read.",
                             retryable=True) from error  # fmt: skip
        except httpx2.TimeoutException:
            raise ModelError("model_timeout", "The model did not answer in time.", retryable=True) from None
        except httpx2.HTTPError:
            raise ModelError("model_unavailable", "The model service could not be reached.", retryable=True) from None
        if not finish:
            # The stream ended without saying why: a cut connection, not a complete answer.
            raise ModelError("model_unavailable", "The model's answer was cut off.", retryable=True)
        if finish == "error":
            raise ModelError("model_unavailable", "The model stopped with an error.", retryable=True)
        return ChatResult(
            text="".join(parts),
            model=served_by,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=round((time.monotonic() - started) * 1000),
            ttft_ms=round((first - started) * 1000) if first is not None else None,
            finish_reason=finish,
        )


def classify_status(status: int, retry_after: str | None, body: str = "") -> ModelError:
    if 200 <= status < 300:  # a success status with a body the SDK could not read
        return ModelError("model_bad_response", "The model service sent a response we could not read.", retryable=True)
    if status == 429:
        return ModelError(
            "model_rate_limited",
            "The model service is busy (rate limit reached); the job will resume automatically.",
            retryable=True,
            retry_after=parse_retry_after(retry_after),
        )
    if status in (401, 403):
        return ModelError("model_auth_failed", "The model service refused our credentials (check MISTRAL_API_KEY).")
    if status == 400 and ("context" in body.lower() or "too large" in body.lower()):
        return ModelError("input_too_large", "The text is too long for the model.")
    if status >= 500:
        return ModelError("model_unavailable", f"The model service failed (HTTP {status}).", retryable=True)
    return ModelError("model_bad_request", f"The model service refused the request (HTTP {status}).")


_gateways: dict[LLMSettings, Gateway] = {}
_lock = threading.Lock()


def get_gateway(settings: LLMSettings) -> Gateway:
    """One gateway (one connection pool) per process and configuration."""
    with _lock:
        gateway = _gateways.get(settings)
        if gateway is None:
            gateway = _gateways[settings] = Gateway(settings)
        return gateway
