"""A fake Mistral API: a real HTTP server on 127.0.0.1 speaking the chat-completions wire format.

It answers ``POST /v1/chat/completions`` as Mistral does, JSON or Server-Sent Events
(``stream: true``: a role chunk, content chunks, a final chunk with ``finish_reason`` and
``usage``, then ``data: [DONE]``), and ``GET /v1/models``. The SDK talks to it through
``MISTRAL_SERVER_URL`` (the base URL, without ``/v1``).

Behaviour, set for the whole server or queued for the next requests:

    with FakeMistralServer(latency=0.1) as model:           # or start()/stop()
        model.url, model.api_key                             # Authorization: Bearer <api_key> is required
        model.configure(latency=2.0, chunk_delay=0.0, chunks=8, jitter=0.0)
        model.fail_next(status=429, retry_after=1, times=1)  # 429 with or without Retry-After, 500, 503…
        model.fail_next(kind="cut")                          # stream cut mid-way, no finish_reason, no [DONE]
        model.fail_next(kind="invalid_json")                 # a 200 whose body is not JSON
        model.fail_next(kind="context_length")               # 400 with Mistral's context-length error body
        model.requests                                       # every request: {"body", "headers", "at", "path"}
        model.in_flight, model.stats()["max_in_flight"]      # concurrency, current and maximum
        model.reply_for(text)                                # the deterministic reply to a user message

The reply is a deterministic function of the last user message (its words reversed in order,
then upper-cased), so a test can tell the output came from its input. A request whose last
user message contains ``[[reply:…]]`` gets that exact text instead.

Standalone, for benchmarks and manual runs:
    python -m tests.fakes.mistral_server --port 8765 --latency 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

REPLY_OVERRIDE = re.compile(r"\[\[reply:(.*?)\]\]", re.DOTALL)
# suite_ai delimits the document as <document-…>…</document-…>; the fake answers about that text.
DOCUMENT = re.compile(r"<(document-[0-9a-f]+)>\n?(.*?)\n?</\1>", re.DOTALL)
MAX_REPLY_WORDS = 60


@dataclass
class Failure:
    kind: str = "status"  # status | cut | invalid_json | context_length | hang
    status: int = 500
    retry_after: float | None = None


def approximate_tokens(text: str) -> int:
    return max(1, round(len(text) / 3.8))


def reply_for(user_text: str) -> str:
    """The deterministic "model": the first three words of the text, then the last ones reversed,
    upper-cased. Several delimited documents (a reduce step) get one such reply each, in order."""
    override = REPLY_OVERRIDE.search(user_text)
    if override:
        return override.group(1)
    documents = DOCUMENT.findall(user_text)
    if len(documents) > 1:
        return " | ".join(reply_for(text) for _, text in documents)
    if documents:
        user_text = documents[0][1]
    words = re.findall(r"\w+", user_text)
    picked = words[:3] + list(reversed(words[3:]))[: MAX_REPLY_WORDS - 3]
    return " ".join(picked).upper() or "OK"


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
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.chunks = chunks
        self.jitter = jitter
        self.requests: list[dict[str, Any]] = []
        # Like Mistral and Albert: above this many requests in the last 60 s, answer 429.
        self.requests_per_minute = requests_per_minute
        self.rate_limited = 0
        self._fail_after: tuple[int, int] | None = None
        self.in_flight = 0
        self._max_in_flight = 0
        self._failures: deque[Failure] = deque()
        self._lock = threading.Lock()
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- control -------------------------------------------------------------------------------

    def configure(
        self,
        latency: float | None = None,
        chunk_delay: float | None = None,
        chunks: int | None = None,
        jitter: float | None = None,
    ) -> None:
        if latency is not None:
            self.latency = latency
        if chunk_delay is not None:
            self.chunk_delay = chunk_delay
        if chunks is not None:
            self.chunks = chunks
        if jitter is not None:
            self.jitter = jitter

    set_latency = configure

    def fail_next(
        self, status: int = 500, *, kind: str = "status", retry_after: float | None = None, times: int = 1
    ) -> None:
        with self._lock:
            for _ in range(times):
                self._failures.append(Failure(kind=kind, status=status, retry_after=retry_after))

    def reset(self, latency: float = 0.0) -> None:
        """Back to a plain, fast, well-behaved model (between tests)."""
        self.configure(latency=latency, chunk_delay=0.0, chunks=8, jitter=0.0)
        self.requests_per_minute = 0
        with self._lock:
            self._failures.clear()
            self._fail_after = None
        self.reset_stats()

    def fail_after(self, successes: int, status: int = 503) -> None:
        """Answer ``successes`` more requests normally, then fail every one with ``status``."""
        with self._lock:
            self._fail_after = (successes, status)

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.rate_limited = 0
            self._max_in_flight = self.in_flight

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": len(self.requests), "in_flight": self.in_flight, "max_in_flight": self._max_in_flight}

    @staticmethod
    def reply_for(user_text: str) -> str:
        return reply_for(user_text)

    def expected_reply(self, source_text: str) -> str:
        """The reply to a prompt whose last user message ends with ``source_text`` (what tests send)."""
        return reply_for(source_text)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeMistralServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_get("/v1/models", self._models)
            app.router.add_get("/_stats", self._stats)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self._port, backlog=4096)
            loop.run_until_complete(site.start())
            sockets = site._server.sockets  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-mistral", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeMistralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP ----------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "mistral-small-latest", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def _delay(self, base: float) -> float:
        return max(0.0, base + (random.uniform(-self.jitter, self.jitter) if self.jitter else 0.0))

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"message": "Unauthorized", "request_id": "fake"}, status=401)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"object": "error", "message": "Invalid JSON body", "code": None}, status=400)
        with self._lock:
            self.requests.append(
                {"path": request.path, "body": body, "headers": dict(request.headers), "at": time.monotonic()}
            )
            failure = self._failures.popleft() if self._failures else None
            if failure is None and self._fail_after is not None:
                remaining, status = self._fail_after
                if remaining > 0:
                    self._fail_after = (remaining - 1, status)
                else:
                    failure = Failure(kind="status", status=status)
            if failure is None and self.requests_per_minute:
                now = time.monotonic()
                recent = sum(1 for r in self.requests if r["at"] > now - 60)
                if recent > self.requests_per_minute:
                    failure = Failure(kind="status", status=429, retry_after=1)
                    self.rate_limited += 1
            self.in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self.in_flight)
        try:
            return await self._answer(request, body, failure)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, request: web.Request, body: dict[str, Any], failure: Failure | None) -> web.StreamResponse:
        await asyncio.sleep(self._delay(self.latency))
        messages = body.get("messages") or []
        user_text = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        prompt_text = "".join(str(m.get("content", "")) for m in messages)
        if failure is not None and failure.kind == "status":
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            message = "Requests rate limit exceeded" if failure.status == 429 else "Internal server error"
            return web.json_response(
                {
                    "object": "error",
                    "message": message,
                    "type": "api_error",
                    "param": None,
                    "code": str(failure.status),
                },
                status=failure.status,
                headers=headers,
            )
        if failure is not None and failure.kind == "context_length":
            return web.json_response(
                {
                    "object": "error",
                    "message": "Prompt contains 140000 tokens, too large for model with 131072 maximum context length",
                    "type": "invalid_request_prompt",
                    "param": None,
                    "code": "3051",
                },
                status=400,
            )
        if failure is not None and failure.kind == "invalid_json":
            return web.Response(text="{not json", content_type="application/json")
        reply = reply_for(user_text)
        usage = {
            "prompt_tokens": approximate_tokens(prompt_text),
            "completion_tokens": approximate_tokens(reply),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        model = body.get("model", "mistral-small-latest")
        created = int(time.time())
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": f"cmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        chunk_id = f"cmpl-{len(self.requests)}"

        async def send(delta: dict[str, Any], finish: str | None = None, with_usage: bool = False) -> None:
            chunk: dict[str, Any] = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        pieces = split_reply(reply, self.chunks)
        for index, piece in enumerate(pieces):
            if failure is not None and failure.kind == "cut" and index >= len(pieces) // 2:
                # Close without finish_reason nor [DONE], as a dropped gateway connection does.
                if request.transport is not None:
                    request.transport.close()
                return response
            await send({"content": piece})
            if self.chunk_delay:
                await asyncio.sleep(self._delay(self.chunk_delay))
        await send({"content": ""}, finish="stop", with_usage=True)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def split_reply(reply: str, chunks: int) -> list[str]:
    words = reply.split(" ")
    size = max(1, -(-len(words) // max(1, chunks)))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [piece + (" " if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--api-key", default="fake-mistral-key")
    args = parser.parse_args()
    server = FakeMistralServer(latency=args.latency, chunks=args.chunks, api_key=args.api_key, port=args.port)
    server.start()
    print(f"fake Mistral on {server.url} (key {args.api_key})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
