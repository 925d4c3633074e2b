"""``POST /v1/chat/completions`` and ``GET /v1/models``: a Mistral- and OpenAI-compatible model
endpoint for Docs' backend (its ``OPENAI_SDK_BASE_URL`` = ``https://<suite_ai>/v1``, or its
``MISTRAL_SDK_BASE_URL`` = ``https://<suite_ai>``), authenticated by a service token.

A plain ASGI endpoint (``suite_ai.asgi`` routes every ``/v1/`` request here), as the jobs' event
stream: a call waiting for its model is a coroutine, not one of the web's threads, whatever the
model's latency or a rate limit's wait. The body goes upstream as the client sent it (tools,
``tool_choice``, response formats…), with ``model`` replaced by the upstream's name for it; the
answer comes back as the upstream sent it, except that a stream's tool calls are passed on whole
(``wire.ToolCalls``). Each call is a row of the ledger (``ServiceModelCall``), per calling service.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.conf import settings
from django.db import connection

from suite_ai.accounts.oidc import is_service_token
from suite_ai.llm.tokens import approximate_tokens
from suite_ai.model_endpoint import upstream, wire
from suite_ai.model_endpoint.models import ServiceModelCall
from suite_ai.model_endpoint.wire import API_ERROR, AUTHENTICATION, WireError

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/v1/"
CHAT = "/v1/chat/completions"
MODELS = "/v1/models"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each chunk on at once
]
DONE = b"data: [DONE]\n\n"

# The ledger's writes: off the event loop, on two threads that give their connection back after each.
_ledger = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model-endpoint-db")


def matches(path: str) -> bool:
    return path.startswith(PREFIX)


def fingerprint(token: str) -> str:
    """Who called, for the ledger: not the token, which a ledger must never hold."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def authenticate(headers: dict[bytes, bytes]) -> str:
    """The calling service's fingerprint, from ``Authorization: Bearer <a SUITE_AI_SERVICE_TOKENS token>``."""
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not is_service_token(token):
        raise WireError(
            401, "invalid_api_key", "Send a service token (SUITE_AI_SERVICE_TOKENS) as a Bearer token.",
            kind=AUTHENTICATION,
        )  # fmt: skip
    return fingerprint(token)


async def handle(scope: Scope, receive: Receive, send: Send) -> None:
    headers = dict(scope.get("headers", ()))
    try:
        service = authenticate(headers)
        path, method = scope["path"], scope["method"]
        if path not in (CHAT, MODELS):
            raise WireError(404, "not_found", f"No such endpoint: {path}. This service serves {CHAT} and {MODELS}.")
        allowed = "POST" if path == CHAT else "GET"
        if method != allowed:
            error = WireError(405, "method_not_allowed", f"{path} accepts {allowed} only.")
            await _answer_error(send, error, [(b"allow", allowed.encode())])
            return
        if path == MODELS:
            await _answer_json(send, 200, _models())
            return
        raw = await _read_body(receive, headers)
        body = wire.parse_request(raw)
    except WireError as error:
        await _answer_error(send, error)
        return
    await _chat(service, body, receive, send)


def _models() -> bytes:
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "suite_ai"} for name in upstream.routes()]
    return json.dumps({"object": "list", "data": data}).encode()


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_large = WireError(413, "request_too_large", f"The request body is larger than {limit} bytes.")
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise WireError(400, "invalid_request", "The client went away before sending its request.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _chat(service: str, body: dict[str, Any], receive: Receive, send: Send) -> None:
    started = time.monotonic()
    requested = body["model"]
    streaming = bool(body.get("stream"))
    row: dict[str, Any] = {"service": service, "requested_model": requested, "stream": streaming}
    prompt = wire.prompt_text(body)
    targets = upstream.routes().get(requested)
    if not targets:
        await _answer_error(
            send,
            WireError(404, "model_not_found", f"The model {requested!r} does not exist here; see GET {MODELS}."),
        )
        return
    try:
        opened = await upstream.open_call(targets, body, prompt)
    except upstream.Refused as refused:
        await _answer_error(send, refused)
        target = refused.target
        _record(
            row,
            status=refused.status,
            attempts=refused.attempts,
            upstream=target.upstream if target else "",
            model=target.model if target else "",
            latency_ms=upstream.elapsed_ms(started),
        )
        return
    row.update(upstream=opened.target.upstream, model=opened.target.model, attempts=opened.attempts)
    if streaming:
        usage = await _relay_stream(opened, receive, send)
    else:
        usage = await _relay_json(opened, send)
    prompt_tokens, completion_tokens, text, status = usage
    estimated = not prompt_tokens
    _record(
        row,
        status=status,
        prompt_tokens=prompt_tokens or approximate_tokens(prompt),
        completion_tokens=completion_tokens or (approximate_tokens(text) if estimated and text else 0),
        usage_estimated=estimated,
        latency_ms=upstream.elapsed_ms(started),
    )


Usage = tuple[int, int, str, int]  # prompt tokens, completion tokens, text (to estimate), status


async def _relay_json(opened: upstream.Opened, send: Send) -> Usage:
    try:
        raw = await opened.response.aread()
        answer = json.loads(raw)
        if not isinstance(answer, dict):
            raise ValueError("not a JSON object")
    except (httpx.HTTPError, ValueError):
        error = WireError(502, "upstream_error", "The model service sent a response we could not read.", kind=API_ERROR)
        await _answer_error(send, error)
        return 0, 0, "", 502
    finally:
        await opened.response.aclose()
    await _answer_json(send, 200, raw)
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    text = "".join(
        str((choice.get("message") or {}).get("content") or "")
        for choice in answer.get("choices") or ()
        if isinstance(choice, dict)
    )
    return _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens"), text, 200


def _tokens(usage: Any, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and value > 0 else 0


async def _relay_stream(opened: upstream.Opened, receive: Receive, send: Send) -> Usage:
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    state: dict[str, Any] = {"prompt": 0, "completion": 0, "text": [], "status": 200}
    pump = asyncio.create_task(_pump(opened, send, state))
    watcher = asyncio.create_task(_watch_disconnect(receive))
    try:
        done, _pending = await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if pump not in done:  # the client went away: stop reading the upstream, which stops the model
            pump.cancel()
            state["status"] = 499
            await asyncio.gather(pump, return_exceptions=True)
        elif pump.exception() is not None:  # the client's connection failed under a send
            logger.warning("model endpoint: stream ended early (%s)", type(pump.exception()).__name__)
            state["status"] = 499
    finally:
        watcher.cancel()
        await opened.response.aclose()
    if state["status"] != 499:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return state["prompt"], state["completion"], "".join(state["text"]), state["status"]


async def _pump(opened: upstream.Opened, send: Send, state: dict[str, Any]) -> None:
    buffer = bytearray()
    tools = wire.ToolCalls()
    finished = False
    try:
        async for piece in opened.response.aiter_bytes():
            buffer += piece
            out: list[bytes] = []
            for payload in wire.sse_data_lines(buffer):
                if payload.strip() == b"[DONE]":
                    finished = True
                    break
                chunk = _chunk(payload)
                if chunk is None:  # an error object, or a line that is not JSON: the stream is over
                    await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
                    await _end_with_error(send, state)
                    return
                _observe(chunk, state)
                out.append(wire.frame(tools.take(chunk)))
            if out:
                await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
            if finished:
                break
    except httpx.HTTPError:
        pass
    if finished:
        await send({"type": "http.response.body", "body": DONE, "more_body": True})
    else:
        await _end_with_error(send, state)


def _chunk(payload: bytes) -> dict[str, Any] | None:
    try:
        chunk = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(chunk, dict) or "error" in chunk or chunk.get("object") == "error":
        return None
    return chunk


def _observe(chunk: dict[str, Any], state: dict[str, Any]) -> None:
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        state["prompt"] = _tokens(usage, "prompt_tokens") or state["prompt"]
        state["completion"] = _tokens(usage, "completion_tokens") or state["completion"]
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            state["text"].append(delta["content"])


async def _end_with_error(send: Send, state: dict[str, Any]) -> None:
    state["status"] = 502
    error = WireError(502, "upstream_error", "The model's answer was cut off.", kind=API_ERROR)
    await send({"type": "http.response.body", "body": error.event(), "more_body": True})


async def _watch_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _answer_json(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer_error(send: Send, error: WireError, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = list(extra or [])
    if error.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if error.retry_after is not None:
        # Whole seconds, rounded up: a client that waits this long finds the budget free.
        headers.append((b"retry-after", str(max(1, math.ceil(error.retry_after))).encode()))
    await _answer_json(send, error.status, error.body(), headers)


def _record(row: dict[str, Any], **fields: Any) -> None:
    """Write the ledger's row on a thread of its own, after the answer: the caller never waits for it."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_ledger, _write, {**row, **fields})
    future.add_done_callback(_report)


def _write(fields: dict[str, Any]) -> None:
    try:
        ServiceModelCall.objects.create(**fields)
    finally:
        connection.close()


def _report(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("model endpoint: usage not recorded (%s)", type(future.exception()).__name__)
