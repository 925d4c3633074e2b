"""``POST /api/v1.0/documents/{id}/ai-proxy/``: Docs' ai-proxy, served by suite_ai.

A plain ASGI endpoint (``suite_ai.asgi`` routes the POST requests of this path to it), like the
job event stream: an open stream costs a coroutine, never a thread. The checks that read the
database, Redis or Docs run on a few shared threads (``_pool``), which give their database
connection back after each check; the model is called with pydantic-ai's async Mistral client.

What it answers, as Docs' ``DocumentViewSet.ai_proxy`` (suitenumerique/docs,
``src/backend/core/api/viewsets.py``) does: the Vercel AI SDK's UI message stream
(``text/event-stream``, ``x-vercel-ai-data-stream: v1``, ``X-Accel-Buffering: no``); 400 "Invalid
submitted payload" for a body pydantic refuses; 403 without the ``ai_proxy`` ability. And what
suite_ai adds: 413 over ``SUITE_AI_PROXY_MAX_BODY_BYTES``, 429 over the per-user and per-document
rates, the daily token quotas and the shared model limiter, and the tokens of each stream in the
usage ledger. Errors are suite_ai's JSON (``code``, ``message`` in the request's language).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.utils import translation
from django.utils.translation import gettext as _
from pydantic_ai import Agent, DeferredToolRequests
from pydantic_ai.models.mistral import MistralModel
from pydantic_ai.providers.mistral import MistralProvider
from pydantic_ai.run import AgentRunResult
from pydantic_ai.settings import ModelSettings
from pydantic_ai.ui.vercel_ai import VercelAIAdapter
from rest_framework import exceptions, status

from suite_ai.api_errors import APIError
from suite_ai.docs_ai_proxy import access, blocknote_ai, usage
from suite_ai.jobs.api.events import cors_headers
from suite_ai.jobs.streams import ReadPool
from suite_ai.languages import language_for
from suite_ai.pipeline.model import limiter

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = re.compile(r"^/api/v1\.0/documents/(?P<document_id>[^/]+)/ai-proxy/$")
ABILITY = "ai_proxy"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-vercel-ai-data-stream", b"v1"),  # what Docs sends
    (b"x-vercel-ai-ui-message-stream", b"v1"),  # what the AI SDK's own servers send
    (b"x-accel-buffering", b"no"),  # nginx: pass each chunk on at once
]
SdkVersion = Literal[5, 6, 7]
INVALID_PAYLOAD = "Invalid submitted payload"  # Docs' words, kept as ``detail``


class _Pool:
    pool: ReadPool | None = None
    loop: asyncio.AbstractEventLoop | None = None


def _pool() -> ReadPool:
    """This process's threads for the checks, made in the running loop (a new loop: a new pool)."""
    loop = asyncio.get_running_loop()
    if _Pool.pool is None or _Pool.loop is not loop:
        _Pool.pool, _Pool.loop = ReadPool(settings.SUITE_AI_SSE_DB_THREADS), loop
    return _Pool.pool


def model_name() -> str:
    return str(settings.SUITE_AI_ACTION_MODELS.get("ai_proxy") or settings.MISTRAL_MODEL)


@functools.cache
def _model(api_key: str, server_url: str | None, name: str, loop_id: int) -> MistralModel:
    # One client (connection pool) per configuration and event loop: a stream reuses the
    # connections of the ones before it.
    return MistralModel(name, provider=MistralProvider(api_key=api_key, base_url=server_url))


def require_model() -> None:
    if not settings.MISTRAL_API_KEY:
        raise APIError(
            "model_not_configured",
            _("No model is configured for Docs' AI: set MISTRAL_API_KEY."),
            status.HTTP_400_BAD_REQUEST,
        )


def mistral_model() -> MistralModel:
    """suite_ai's Mistral-compatible gateway (``MISTRAL_SERVER_URL``, the base URL without
    ``/v1``, as for the jobs), through pydantic-ai's Mistral model: Docs' own choice for a Mistral
    provider, and the wire suite_ai's fakes and gateways speak."""
    require_model()
    loop_id = id(asyncio.get_running_loop())
    return _model(str(settings.MISTRAL_API_KEY), settings.MISTRAL_SERVER_URL, model_name(), loop_id)


def estimated_tokens(body: bytes) -> int:
    """What the request will cost at least, for the quotas and the model limiter before the
    model says: about four bytes of JSON a token."""
    return max(1, len(body) // 4)


def check_model_limiter(tokens: int) -> None:
    grant = limiter().try_acquire(model_name(), tokens)
    if not grant.granted:
        seconds = max(1, math.ceil(grant.wait))
        raise APIError(
            "model_rate_limited",
            _("The model's rate limit is reached; try again in %(seconds)d s.") % {"seconds": seconds},
            status.HTTP_429_TOO_MANY_REQUESTS,
            retry_after=seconds,
        )


def admit(request: ASGIRequest, document_id: uuid.UUID, body: bytes, language: str) -> access.Caller:
    """Every check before the stream, in the order Docs makes its own (credentials, then the
    ability, then the payload), then suite_ai's limits. On a thread of the pool."""
    with translation.override(language):
        caller = access.authorize_docs_ai(request, document_id, ABILITY)
        try:
            blocknote_ai.parse_request(body)
        except blocknote_ai.InvalidPayload:
            raise APIError("invalid_payload", _("Invalid submitted payload"), detail=INVALID_PAYLOAD) from None
        require_model()
        tokens = estimated_tokens(body)
        access.check_limits(caller, document_id, tokens)
        check_model_limiter(tokens)
        return caller


# --- The ASGI endpoint ------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    headers = dict(scope.get("headers", ()))
    try:
        declared = int(headers.get(b"content-length", b"0") or b"0")
    except ValueError:
        declared = 0
    if declared > limit:
        raise _TooLarge()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def too_large() -> APIError:
    limit = settings.SUITE_AI_PROXY_MAX_BODY_BYTES
    return APIError(
        "input_too_large",
        _("The request body exceeds the limit of %(limit)d bytes.") % {"limit": limit},
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        limit_bytes=limit,
    )


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    headers = dict(scope.get("headers", ()))
    language = language_for(headers.get(b"accept-language", b"").decode("latin-1"))
    extra_headers = cors_headers(scope) if b"origin" in headers else []
    extra_headers.append((b"content-language", language.encode("ascii")))
    with translation.override(language):
        try:
            await _serve(scope, receive, send, language, extra_headers)
        except exceptions.APIException as error:
            await _refuse(send, error, extra_headers)
        except ConnectionResetError:
            pass  # the client left before its request was read


async def _serve(scope: Scope, receive: Receive, send: Send, language: str, extra: list[tuple[bytes, bytes]]) -> None:
    match = PATH.match(scope["path"])
    try:
        document_id = uuid.UUID(match["document_id"] if match else "")
    except ValueError:
        raise APIError("invalid_document_id", _("The document id must be a UUID.")) from None
    try:
        body = await _read_body(scope, receive, settings.SUITE_AI_PROXY_MAX_BODY_BYTES)
    except _TooLarge:
        raise too_large() from None
    request = ASGIRequest(scope, io.BytesIO())
    try:
        caller = await _pool().run(admit, request, document_id, body, language)
    except exceptions.APIException:
        raise
    except Exception:
        # Outside Django's handler nothing else would answer: the API's shape, never a bare 500.
        logger.exception("ai-proxy: a request could not be checked")
        raise APIError(
            "internal_error",
            _("Internal error: the request could not be completed."),
            status.HTTP_500_INTERNAL_SERVER_ERROR,
        ) from None
    model = mistral_model()
    await _stream(scope, receive, send, body=body, caller=caller, document_id=document_id, model=model, extra=extra)


async def _stream(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    body: bytes,
    caller: access.Caller,
    document_id: uuid.UUID,
    model: MistralModel,
    extra: list[tuple[bytes, bytes]],
) -> None:
    """Docs' ``AIService._build_async_stream``, then the bytes to the client as they come."""
    run_input, tool_definitions = blocknote_ai.parse_request(body)
    run_input.messages = blocknote_ai.inject_document_state_messages(run_input.messages)
    toolset = blocknote_ai.tool_definitions_to_toolset(tool_definitions) if tool_definitions else None
    agent: Agent[None, Any] = Agent(model, instructions=blocknote_ai.build_instructions(tool_definitions))
    accept = dict(scope.get("headers", ())).get(b"accept", b"text/event-stream").decode("latin-1")
    adapter = VercelAIAdapter(
        agent=agent,
        run_input=run_input,
        accept=accept,
        sdk_version=cast(SdkVersion, settings.SUITE_AI_PROXY_SDK_VERSION),
    )
    started = time.monotonic()
    first_byte: list[float] = []
    results: list[AgentRunResult[Any]] = []

    def on_complete(result: AgentRunResult[Any]) -> None:
        results.append(result)

    events = adapter.run_stream(
        output_type=[str, DeferredToolRequests] if toolset else None,
        toolsets=[toolset] if toolset else None,
        model_settings=ModelSettings(timeout=settings.MISTRAL_TIMEOUT),
        on_complete=on_complete,
    )
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS + extra})

    recorded: list[bool] = []

    async def record() -> None:
        if not recorded:
            recorded.append(True)
            await _record(caller, document_id, results, started, first_byte)

    async def pump() -> None:
        async for chunk in adapter.encode_stream(events):
            if not first_byte:
                first_byte.append(time.monotonic())
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
        await record()  # before the stream ends: the client's next request finds its tokens counted
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    pumping = asyncio.create_task(pump())
    watcher = asyncio.create_task(_watch_disconnect(receive, pumping))
    try:
        await pumping
    except asyncio.CancelledError:
        if not pumping.cancelled():
            raise  # the server is stopping: not the client leaving
    finally:
        watcher.cancel()
        await record()


async def _watch_disconnect(receive: Receive, pumping: asyncio.Task[None]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    pumping.cancel()  # the browser left: stop the model call too


async def _record(
    caller: access.Caller,
    document_id: uuid.UUID,
    results: list[AgentRunResult[Any]],
    started: float,
    first_byte: list[float],
) -> None:
    """The stream's tokens, as the model reported them, to the user and the document. A stream
    cut before the model finished reports none: pydantic-ai hands out a run's usage at its end."""
    if not results:
        return
    run_usage = results[0].usage()
    try:
        await _pool().run(
            functools.partial(
                usage.record_call,
                user=caller.user,
                document_id=document_id,
                model=model_name(),
                prompt_tokens=run_usage.input_tokens,
                completion_tokens=run_usage.output_tokens,
                requests=run_usage.requests,
                latency_ms=round((time.monotonic() - started) * 1000),
                ttft_ms=round((first_byte[0] - started) * 1000) if first_byte else None,
            )
        )
    except Exception:
        logger.exception("ai-proxy: the usage of a stream could not be recorded")


def refusal(error: exceptions.APIException) -> dict[str, Any]:
    """The API's error body: an ``APIError`` as raised; the authentication's own refusals as the
    API's exception handler words them (an ``AuthError`` carries its code and extra fields)."""
    if isinstance(error, APIError):
        return {"code": error.code, "message": error.message, **error.extra}
    fallback = "not_authenticated" if isinstance(error, exceptions.NotAuthenticated) else "authentication_failed"
    code = getattr(error, "stable_code", fallback)
    return {"code": code, "message": str(error.detail), **getattr(error, "extra", {})}


async def _refuse(send: Send, error: exceptions.APIException, extra: list[tuple[bytes, bytes]]) -> None:
    payload = refusal(error)
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    if error.status_code == status.HTTP_401_UNAUTHORIZED:
        headers.append((b"www-authenticate", b"Bearer"))
    if payload.get("retry_after") is not None:
        headers.append((b"retry-after", str(payload["retry_after"]).encode()))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
