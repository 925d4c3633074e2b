"""A fake Mistral API: a real HTTP server on 127.0.0.1 speaking the chat-completions wire format.

It answers ``POST /v1/chat/completions`` as Mistral does, JSON or Server-Sent Events
(``stream: true``: a role chunk, content chunks, a final chunk with ``finish_reason: "stop"`` and
``usage``, then ``data: [DONE]``), and ``GET /v1/models``. The SDK talks to it through
``MISTRAL_SERVER_URL`` = ``server.url`` (the base URL, without ``/v1``). One asyncio loop in a
daemon thread (aiohttp) holds thousands of slow requests at once.

Lifecycle::

    with FakeMistralServer(latency=0.1) as model:     # or model.start() ... model.stop()
        model.url        # "http://127.0.0.1:<free port>"
        model.api_key    # "Authorization: Bearer <api_key>" is required, else 401

Behaviour for every request (``configure`` changes any of these at run time)::

    model.configure(latency=2.0,         # seconds before the first byte (JSON: before the answer)
                    chunk_delay=0.05,    # seconds between content chunks of a stream
                    jitter=0.5,          # random ±jitter added to both delays (uniform, seeded by `seed`)
                    chunks=8,            # content chunks a stream is split into
                    reply=None,          # fixed reply text; None: the deterministic reply (below)
                    stream_usage=True)   # False: no usage in streams, like some vLLM gateways
    model.set_latency(...)               # same as configure
    model.requests_per_minute = 60       # answer 429 (Retry-After: 1) above 60 requests in any 60 s…
    model.rate_window = 6.0              # …or in any 6 s (a scaled-down minute, for benchmarks)

Scripted behaviour for some requests (first match wins: marker rules, then the FIFO queue)::

    model.fail_next(status=429, retry_after=1, times=1)   # FIFO queue; 429 with or without Retry-After, 500, 503…
    model.fail_next(kind="cut")            # stream cut mid-way: connection closed, no finish_reason, no [DONE]
    model.fail_next(kind="truncate")       # stream ends cleanly half-way, without finish_reason nor [DONE]
    model.fail_next(kind="invalid_json")   # a 200 whose body (or, streaming, a data line) is not JSON
    model.fail_next(kind="context_length") # 400 with Mistral's context-length error body
    model.fail_next(kind="stream_error")   # an error object in the middle of a stream
    model.fail_next(kind="drop")           # connection closed before any response byte
    model.fail_next(kind="hang")           # never answers (until the client gives up)
    model.enqueue(Behaviour(latency=0.5, reply="Bonjour"))   # any Behaviour, FIFO
    model.when("MARKER", Behaviour(kind="status", status=503), times=2)  # requests whose last user
                                           # message contains MARKER (times=None: every time)
    model.fail_after(5, status=503)        # answer 5 more normally, then fail every request
    model.when("MARKER", Behaviour(tool_call=("applyDocumentOperations", '{"operations": []}')))
                                           # a tool call instead of text (below)

Tool calls, as Mistral streams them (Mistral's OpenAPI: ``DeltaMessage.tool_calls`` is a list of
``ToolCall``, ``finish_reason`` one of stop, length, error, ``tool_calls``; the ``mistralai``
SDK's ``models.ToolCall``: ``id``, ``type: "function"``, ``function: {name, arguments}``,
``index``): the whole call comes in one delta, ``arguments`` a JSON string, then a final chunk
with ``finish_reason: "tool_calls"`` and ``usage``. A JSON answer carries the same list in
``message.tool_calls``. The request's ``tools`` are recorded in ``model.requests`` like the rest.

Inline markers in the last user message work without any set-up:
``[[reply:text]]`` (exact reply), ``[[fail:429]]`` / ``[[fail:cut]]`` / ``[[fail:<kind>]]``,
``[[latency:0.5]]``, ``[[tool:NAME {"json": "arguments"}]]`` (below).

Tool calls (Mistral's function calling, https://docs.mistral.ai/capabilities/function_calling/;
fields as the ``mistralai`` SDK's models read them): when the request carries ``tools`` and its
last message is a user message with ``[[tool:NAME {…}]]``, the answer calls NAME with those
arguments: ``message.tool_calls = [{"id", "type": "function", "function": {"name", "arguments":
"<JSON text>"}, "index": 0}]`` (``mistralai.client.models.toolcall.ToolCall``, ``FunctionCall``;
Mistral's ids are 9 letters and digits), empty ``content``, ``finish_reason: "tool_calls"``. A
stream sends the call as Mistral does, whole in one delta with that finish reason; with
``model.configure(tool_call_style="openai")`` it sends it as OpenAI-style gateways (vLLM, Albert)
do: a delta with index, id, type and name and empty arguments, then the arguments in fragments
keyed by ``index`` (``openai.types.chat.chat_completion_chunk.ChoiceDeltaToolCall``), then a
chunk with ``finish_reason: "tool_calls"``. When the last message is a ``tool`` message (the
round trip's second call), the reply is the deterministic reply to that message's content.

The default reply is a deterministic function of the last user message, so a test can tell
the output came from its input: when that message holds a delimited document
(``<document-…>…</document-…>``, as suite_ai sends it) the reply is about the document's text;
the first three words, then the others in reverse order (at most 60 words), upper-cased;
block references (``[§3]``) count as words and are kept, so a note "cites" its sources. A
message with several delimited documents (a reduce step) gets one such reply per document,
joined with `` | ``, in order, sharing the 60 words (at least three each).
``reply_for(text)`` / ``model.expected_reply(text)`` compute it.

Observation::

    model.requests              # every request: {"path", "body", "headers", "at", "wall", "ended", "status", "kind",
                                # "peer"} ("at"/"ended": time.monotonic() at arrival/end; "wall": time.time();
                                # "peer": the client's (host, port): one per connection)
    model.in_flight             # requests being answered now
    model.stats()               # {"requests", "in_flight", "max_in_flight", "rate_limited", "statuses"}
    model.requests_containing("MARKER")   # requests whose last user message contains MARKER
    model.wait_for_in_flight(200, timeout=10)
    model.reset(latency=0.0)    # back to a plain, fast, well-behaved model; clears scripts and records
    model.reset_stats()         # clears records and counters only

Standalone, for benchmarks and manual runs (prints its URL and key)::

    python -m tests.fakes.mistral_server --port 8765 --latency 2 [--jitter 0.5] [--chunk-delay 0.05]

    GET /_stats, POST /_stats/reset   # stats() and reset_stats() over HTTP, for another process
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

REPLY_OVERRIDE = re.compile(r"\[\[reply:(.*?)\]\]", re.DOTALL)
FAIL_MARKER = re.compile(r"\[\[fail:([a-z_]+|\d{3})\]\]")
LATENCY_MARKER = re.compile(r"\[\[latency:([0-9.]+)\]\]")
TOOL_MARKER = re.compile(r"\[\[tool:(\w+)(?: (\{.*?\}))?\]\]", re.DOTALL)
# suite_ai delimits the document as <document-…>…</document-…>; the fake answers about that text.
DOCUMENT = re.compile(r"<(document-[0-9a-f]+)>\n?(.*?)\n?</\1>", re.DOTALL)
MAX_REPLY_WORDS = 60
WORDS = re.compile(r"\[§\d+\]|\w+")  # a block reference [§n] counts as one word, kept as is
KINDS = {"ok", "status", "cut", "truncate", "invalid_json", "context_length", "stream_error", "drop", "hang"}

CONTEXT_LENGTH_ERROR = {
    "object": "error",
    "message": "Prompt contains 140000 tokens, too large for model with 131072 maximum context length",
    "type": "invalid_request_prompt",
    "param": None,
    "code": "3051",
}


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request. ``None`` fields fall back to the server-wide configuration."""

    kind: str = "ok"  # see KINDS
    status: int = 500  # for kind="status"
    retry_after: float | None = None  # Retry-After header (seconds) for kind="status"
    reply: str | None = None
    latency: float | None = None
    chunk_delay: float | None = None
    chunks: int | None = None
    tool_call: tuple[str, str] | None = None  # (function name, arguments as JSON text)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown behaviour kind {self.kind!r}; one of {sorted(KINDS)}")


def approximate_tokens(text: str) -> int:
    return max(1, round(len(text) / 3.8))


def reply_for(user_text: str, max_words: int = MAX_REPLY_WORDS) -> str:
    """The deterministic "model": the first three words of the text, then the last ones reversed
    (at most ``max_words`` in all), upper-cased. Several delimited documents (a reduce step) get one
    such reply each, in order, sharing the word budget (at least three words each): like a real
    summary, a merge is shorter than what it merges."""
    override = REPLY_OVERRIDE.search(user_text)
    if override:
        return override.group(1)
    documents = DOCUMENT.findall(user_text)
    if len(documents) > 1:
        share = max(3, max_words // len(documents))
        return " | ".join(reply_for(text, share) for _, text in documents)
    if documents:
        user_text = documents[0][1]
    words = WORDS.findall(user_text)
    picked = words[:3] + list(reversed(words[3:]))[: max(0, max_words - 3)]
    return " ".join(picked).upper() or "OK"


def last_user_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):  # content chunks: [{"type": "text", "text": …}]
                return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            return str(content)
    return ""


def last_tool_result(body: Any) -> str | None:
    """The content of the last message when it is a ``tool`` message (a tool call's result)."""
    messages = body.get("messages") if isinstance(body, dict) else None
    last = messages[-1] if messages else None
    if isinstance(last, dict) and last.get("role") == "tool":
        content = last.get("content", "")
        if isinstance(content, list):
            return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        return str(content)
    return None


def tool_call_for(body: Any, text: str) -> tuple[str, str] | None:
    """(name, arguments as JSON text) when the request offers tools and its last message, a user
    message, asks for one with ``[[tool:NAME {…}]]``."""
    if not isinstance(body, dict) or not body.get("tools") or last_tool_result(body) is not None:
        return None
    marker = TOOL_MARKER.search(text)
    if marker is None:
        return None
    return marker.group(1), json.dumps(json.loads(marker.group(2) or "{}"), ensure_ascii=False)


def split_reply(reply: str, chunks: int) -> list[str]:
    words = reply.split(" ")
    size = max(1, -(-len(words) // max(1, chunks)))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [piece + (" " if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces)]


class FakeMistralServer:
    def __init__(
        self,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        chunks: int = 8,
        jitter: float = 0.0,
        api_key: str = "fake-mistral-key",
        port: int = 0,
        requests_per_minute: int = 0,
        host: str = "127.0.0.1",
        seed: int = 0,
        rate_window: float = 60.0,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.chunks = chunks
        self.jitter = jitter
        self.reply: str | None = None
        self.stream_usage = True
        self.tool_call_style = "mistral"
        self.requests: list[dict[str, Any]] = []
        # Like Mistral and Albert: above this many requests in the last 60 s, answer 429.
        self.requests_per_minute = requests_per_minute
        self.rate_window = rate_window
        self.rate_limited = 0
        self.in_flight = 0
        self._max_in_flight = 0
        self._statuses: dict[int, int] = {}
        self._fail_after: tuple[int, int] | None = None
        self._queue: deque[Behaviour] = deque()
        self._rules: list[list[Any]] = []  # [marker, behaviour, remaining or None]
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.url = ""

    # --- control -------------------------------------------------------------------------------

    def configure(
        self,
        latency: float | None = None,
        chunk_delay: float | None = None,
        chunks: int | None = None,
        jitter: float | None = None,
        *,
        reply: str | None = None,
        stream_usage: bool | None = None,
        tool_call_style: str | None = None,
    ) -> None:
        if latency is not None:
            self.latency = latency
        if chunk_delay is not None:
            self.chunk_delay = chunk_delay
        if chunks is not None:
            self.chunks = chunks
        if jitter is not None:
            self.jitter = jitter
        if reply is not None:
            self.reply = reply or None  # "" goes back to the deterministic reply
        if stream_usage is not None:
            self.stream_usage = stream_usage
        if tool_call_style is not None:
            if tool_call_style not in ("mistral", "openai"):
                raise ValueError(tool_call_style)
            self.tool_call_style = tool_call_style

    set_latency = configure

    def fail_next(
        self, status: int = 500, *, kind: str = "status", retry_after: float | None = None, times: int = 1
    ) -> None:
        """Queue ``times`` failing answers (FIFO, shared with ``enqueue``)."""
        self.enqueue(Behaviour(kind=kind, status=status, retry_after=retry_after), times=times)

    def enqueue(self, behaviour: Behaviour, times: int = 1) -> None:
        with self._lock:
            self._queue.extend([behaviour] * times)

    def when(self, marker: str, behaviour: Behaviour, times: int | None = None) -> None:
        """Answer requests whose last user message contains ``marker`` with ``behaviour``."""
        with self._lock:
            self._rules.append([marker, behaviour, times])

    def fail_after(self, successes: int, status: int = 503) -> None:
        """Answer ``successes`` more requests normally, then fail every one with ``status``."""
        with self._lock:
            self._fail_after = (successes, status)

    def reset(self, latency: float = 0.0) -> None:
        """Back to a plain, fast, well-behaved model (between tests)."""
        self.latency, self.chunk_delay, self.chunks, self.jitter = latency, 0.0, 8, 0.0
        self.reply, self.stream_usage, self.requests_per_minute, self.rate_window = None, True, 0, 60.0
        self.tool_call_style = "mistral"
        with self._lock:
            self._queue.clear()
            self._rules.clear()
            self._fail_after = None
        self.reset_stats()

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.rate_limited = 0
            self._statuses = {}
            self._max_in_flight = self.in_flight

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": len(self.requests),
                "in_flight": self.in_flight,
                "max_in_flight": self._max_in_flight,
                "rate_limited": self.rate_limited,
                "statuses": dict(self._statuses),
            }

    def requests_containing(self, marker: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if marker in last_user_text(r["body"])]

    def wait_for_in_flight(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight >= count:
                return True
            time.sleep(0.005)
        return False

    @staticmethod
    def reply_for(user_text: str) -> str:
        return reply_for(user_text)

    def expected_reply(self, source_text: str) -> str:
        """The reply to a prompt whose last user message is (or delimits) ``source_text``."""
        return reply_for(source_text)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeMistralServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                app = web.Application(client_max_size=64 * 1024 * 1024)
                app.router.add_post("/v1/chat/completions", self._chat)
                app.router.add_get("/v1/models", self._models)
                app.router.add_get("/_stats", self._stats)
                app.router.add_post("/_stats/reset", self._reset_stats)
                # handler_cancellation: a client that gives up cancels its handler, so in_flight stays true.
                self._runner = web.AppRunner(
                    app, access_log=None, handle_signals=False, shutdown_timeout=0.5, handler_cancellation=True
                )
                loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, self._host, self._port, backlog=4096)
                loop.run_until_complete(site.start())
                sockets = site._server.sockets  # type: ignore[union-attr]
                self.url = f"http://{self._host}:{sockets[0].getsockname()[1]}"
            except BaseException as error:  # reported by start()
                self._error = error
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-mistral", daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._error is not None:
            raise RuntimeError(f"fake Mistral server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeMistralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP ----------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"message": "Unauthorized", "request_id": "fake"}, status=401)
        models = [
            {"id": name, "object": "model", "created": 0, "owned_by": "mistralai", "max_context_length": 131072}
            for name in ("mistral-small-latest", "mistral-medium-latest", "mistral-large-latest")
        ]
        return web.json_response({"object": "list", "data": models})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _reset_stats(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return web.json_response(self.stats())

    def _delay(self, base: float) -> float:
        if not self.jitter:
            return max(0.0, base)
        return max(0.0, base + self._random.uniform(-self.jitter, self.jitter))

    def _choose(self, text: str) -> Behaviour | None:
        """The scripted behaviour for this request, if any (called with the lock held)."""
        for rule in self._rules:
            marker, behaviour, remaining = rule
            if marker in text and (remaining is None or remaining > 0):
                if remaining is not None:
                    rule[2] = remaining - 1
                return behaviour  # type: ignore[no-any-return]
        inline = FAIL_MARKER.search(text)
        if inline:
            kind = inline.group(1)
            return Behaviour(kind="status", status=int(kind)) if kind.isdigit() else Behaviour(kind=kind)
        if self._queue:
            return self._queue.popleft()
        if self._fail_after is not None:
            remaining, status = self._fail_after
            if remaining > 0:
                self._fail_after = (remaining - 1, status)
            else:
                return Behaviour(kind="status", status=status)
        if self.requests_per_minute:
            now = time.monotonic()
            recent = sum(1 for r in self.requests if r["at"] > now - self.rate_window)
            if recent > self.requests_per_minute:
                self.rate_limited += 1
                return Behaviour(kind="status", status=429, retry_after=1)
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        record: dict[str, Any] = {
            "path": request.path,
            "body": None,
            "headers": dict(request.headers),
            "at": time.monotonic(),
            "wall": time.time(),
            "ended": None,
            "status": None,
            "kind": None,
            "peer": request.transport.get_extra_info("peername") if request.transport else None,
        }
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self.in_flight)
        try:
            response = await self._handle(request, record)
            record["status"] = response.status
            return response
        except (asyncio.CancelledError, ConnectionResetError):  # the client went away
            record["status"] = record["status"] or 499
            raise
        finally:
            record["ended"] = time.monotonic()
            with self._lock:
                self.in_flight -= 1
                self._statuses[record["status"] or 0] = self._statuses.get(record["status"] or 0, 0) + 1

    async def _handle(self, request: web.Request, record: dict[str, Any]) -> web.StreamResponse:
        if not self._authorized(request):
            record["kind"] = "unauthorized"
            return web.json_response({"message": "Unauthorized", "request_id": "fake"}, status=401)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"object": "error", "message": "Invalid JSON body", "code": None}, status=400)
        record["body"] = body
        text = last_user_text(body)
        with self._lock:
            behaviour = self._choose(text) or Behaviour()
        latency_marker = LATENCY_MARKER.search(text)
        if latency_marker and behaviour.latency is None:
            behaviour = replace(behaviour, latency=float(latency_marker.group(1)))
        record["kind"] = behaviour.kind
        return await self._answer(request, body, text, behaviour)

    async def _answer(
        self, request: web.Request, body: dict[str, Any], text: str, behaviour: Behaviour
    ) -> web.StreamResponse:
        await asyncio.sleep(self._delay(self.latency if behaviour.latency is None else behaviour.latency))
        kind = behaviour.kind
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)  # never sent: the connection is gone
        if kind == "status":
            headers = {"Retry-After": f"{behaviour.retry_after:g}"} if behaviour.retry_after is not None else {}
            messages = {429: "Requests rate limit exceeded", 401: "Unauthorized", 503: "Service unavailable"}
            return web.json_response(
                {
                    "object": "error",
                    "message": messages.get(behaviour.status, "Internal server error"),
                    "type": "api_error",
                    "param": None,
                    "code": str(behaviour.status),
                },
                status=behaviour.status,
                headers=headers,
            )
        if kind == "context_length":
            return web.json_response(CONTEXT_LENGTH_ERROR, status=400)
        if kind == "invalid_json" and not body.get("stream"):
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if kind in ("cut", "truncate") and not body.get("stream"):
            # A JSON answer whose connection drops half-way through the announced body.
            partial = web.StreamResponse(headers={"Content-Type": "application/json"})
            partial.content_length = 400
            await partial.prepare(request)
            await partial.write(b'{"id": "x", "object": "chat.completion", "choices": [')
            if request.transport is not None:
                request.transport.close()
            return partial

        tool_result = last_tool_result(body)
        reply = behaviour.reply or self.reply or reply_for(text if tool_result is None else tool_result)
        call = behaviour.tool_call or tool_call_for(body, text)  # a scripted call, or the marker
        tool_call: dict[str, Any] | None = None
        if call is not None:
            call_id = "".join(self._random.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                              for _ in range(9))  # fmt: skip
            tool_call = {"id": call_id, "type": "function", "function": {"name": call[0], "arguments": call[1]}}
            reply = ""
        prompt_text = "".join(str(m.get("content", "")) for m in body.get("messages") or [] if isinstance(m, dict))
        usage = {
            "prompt_tokens": approximate_tokens(prompt_text),
            "completion_tokens": approximate_tokens(reply or json.dumps(tool_call)),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        model = body.get("model", "mistral-small-latest")
        created = int(time.time())
        completion_id = f"cmpl-{id(request):x}"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply}
            if tool_call is not None:
                message["tool_calls"] = [{**tool_call, "index": 0}]
            finish = "tool_calls" if tool_call is not None else "stop"
            return web.json_response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                    "usage": usage,
                }
            )

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish: str | None = None, with_usage: bool = False) -> None:
            chunk: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        if tool_call is not None:
            if self.tool_call_style == "mistral":  # whole, in the chunk that finishes
                await send({"content": "", "tool_calls": [{**tool_call, "index": 0}]}, "tool_calls", self.stream_usage)
            else:  # OpenAI-style: the name, then the arguments in fragments, then the finish
                head = {**tool_call, "index": 0, "function": {"name": tool_call["function"]["name"], "arguments": ""}}
                await send({"tool_calls": [head]})
                arguments = tool_call["function"]["arguments"]
                for start in range(0, len(arguments), 5):
                    await send({"tool_calls": [{"index": 0, "function": {"arguments": arguments[start : start + 5]}}]})
                await send({}, "tool_calls", self.stream_usage)
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        pieces = split_reply(reply, behaviour.chunks or self.chunks)
        chunk_delay = self.chunk_delay if behaviour.chunk_delay is None else behaviour.chunk_delay
        half = len(pieces) // 2
        for index, piece in enumerate(pieces):
            if index >= half and kind in ("cut", "truncate", "invalid_json", "stream_error"):
                if kind == "cut":  # a dropped gateway connection: the body stops mid-way
                    if request.transport is not None:
                        request.transport.close()
                    return response
                if kind == "invalid_json":
                    await response.write(b'data: {"id": "x", "choices": [\n\n')
                elif kind == "stream_error":
                    error = {"object": "error", "message": "Internal server error", "type": "api_error", "code": 500}
                    await response.write(f"data: {json.dumps(error)}\n\n".encode())
                await response.write_eof()  # "truncate": a clean end, but no finish_reason nor [DONE]
                return response
            await send({"content": piece})
            if chunk_delay:
                await asyncio.sleep(self._delay(chunk_delay))
        await send({"content": ""}, finish="stop", with_usage=self.stream_usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


@contextlib.contextmanager
def running_server(**options: Any) -> Iterator[FakeMistralServer]:
    """``with running_server(latency=0.1) as model:`` — for pytest fixtures and scripts."""
    server = FakeMistralServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Mistral chat-completions server (tests, benchmarks).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds before the first byte")
    parser.add_argument("--jitter", type=float, default=0.0, help="random ± seconds on every delay")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream chunks")
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--rpm", type=int, default=0, help="answer 429 above this many requests per minute")
    parser.add_argument("--rate-window", type=float, default=60.0, help="the --rpm window in seconds")
    parser.add_argument("--api-key", default="fake-mistral-key")
    args = parser.parse_args()
    server = FakeMistralServer(
        latency=args.latency,
        chunk_delay=args.chunk_delay,
        chunks=args.chunks,
        jitter=args.jitter,
        api_key=args.api_key,
        port=args.port,
        host=args.host,
        requests_per_minute=args.rpm,
        rate_window=args.rate_window,
    )
    server.start()
    print(f"fake Mistral on {server.url} (MISTRAL_SERVER_URL={server.url} MISTRAL_API_KEY={args.api_key})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
