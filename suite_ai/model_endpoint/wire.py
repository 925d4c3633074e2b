"""The chat-completions wire format, as the OpenAI and Mistral SDKs read it: error bodies, the
Server-Sent Events of a stream, and tool calls passed on whole.

Errors are OpenAI's shape, ``{"error": {"message", "type", "code"}}``: the ``openai`` SDK reads
``error.message``/``code``/``type`` from it (``openai._exceptions.APIError``), the ``mistralai``
SDK raises ``SDKError`` with the status and the raw body, whatever its shape. A stream that fails
once started can no longer change its status: it ends with one ``data: {"error": {…}}`` event,
which the ``openai`` SDK raises as an ``APIError`` (``openai._streaming.Stream``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# ``type`` values, as OpenAI's API answers them.
INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
RATE_LIMIT = "rate_limit_error"
API_ERROR = "api_error"

# The ``code`` values this endpoint answers (README, "A model endpoint for Docs' backend").
WIRE_CODES = (
    "invalid_api_key",
    "invalid_request",
    "request_too_large",
    "model_not_found",
    "method_not_allowed",
    "not_found",
    "rate_limit_exceeded",
    "upstream_rejected_request",
    "upstream_error",
    "upstream_unavailable",
)


class WireError(Exception):
    """An answer in OpenAI's error shape; ``retry_after`` (seconds) becomes a ``Retry-After`` header."""

    def __init__(self, status: int, code: str, message: str, *, kind: str = INVALID_REQUEST) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.kind = status, code, message, kind
        self.retry_after: float | None = None

    def body(self) -> bytes:
        error = {"message": self.message, "type": self.kind, "code": self.code, "param": None}
        return json.dumps({"error": error}, ensure_ascii=False).encode()

    def event(self) -> bytes:
        return b"data: " + self.body() + b"\n\n"


def parse_request(raw: bytes) -> dict[str, Any]:
    """The request body, checked as far as routing and accounting need: the rest (messages'
    roles, tools' schemas) is the upstream's to judge, and its 4xx is passed on."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError(400, "invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise WireError(400, "invalid_request", "The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise WireError(400, "invalid_request", "'model' is required: the name of a model of GET /v1/models.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise WireError(400, "invalid_request", "'messages' must be a non-empty list of message objects.")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise WireError(400, "invalid_request", "'stream' must be true or false.")
    return body


def prompt_text(body: dict[str, Any]) -> str:
    """What the prompt holds, to estimate its tokens (for the limiter, and when no usage comes back)."""
    parts: list[str] = []
    for message in body.get("messages", ()):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"]))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return "\n".join(parts)


def sse_data_lines(buffer: bytearray) -> list[bytes]:
    """Take the complete events out of ``buffer`` and return their ``data`` payloads (SSE: events
    end with a blank line; a ``data`` field may be split over lines; comments are dropped)."""
    payloads: list[bytes] = []
    while True:
        normalized = buffer.replace(b"\r\n", b"\n")
        if len(normalized) != len(buffer):
            buffer[:] = normalized
        end = buffer.find(b"\n\n")
        if end < 0:
            return payloads
        block = bytes(buffer[:end])
        del buffer[: end + 2]
        data = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
        if data:
            payloads.append(b"\n".join(data))


def frame(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


@dataclass
class _Call:
    index: int
    id: str = ""
    type: str = "function"
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def whole(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }


@dataclass
class ToolCalls:
    """The tool calls of a stream, passed on whole, one delta per call, when the choice finishes.

    Mistral sends each call whole in one delta (id, name and arguments), and its SDK's
    ``ToolCall`` requires ``function.name`` and ``function.arguments`` in every delta
    (``mistralai.client.models.toolcall``); OpenAI-style gateways (vLLM, Albert) send the name
    first, then the arguments in fragments keyed by ``index``. Held back until the choice's
    ``finish_reason``, a call reads the same for both SDKs whichever upstream served it."""

    calls: dict[tuple[int, int], _Call] = field(default_factory=dict)

    def take(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """``chunk`` without its tool-call fragments, plus the whole calls of each choice it
        finishes."""
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            choice_index = int(choice.get("index") or 0)
            if isinstance(delta, dict) and delta.get("tool_calls"):
                for position, fragment in enumerate(delta.pop("tool_calls") or ()):
                    self._add(choice_index, position, fragment)
            if choice.get("finish_reason"):
                finished = sorted(
                    (key for key in self.calls if key[0] == choice_index), key=lambda key: self.calls[key].index
                )
                if finished:
                    delta = choice.setdefault("delta", {})
                    delta["tool_calls"] = [self.calls.pop(key).whole() for key in finished]
        return chunk

    def _add(self, choice_index: int, position: int, fragment: Any) -> None:
        if not isinstance(fragment, dict):
            return
        index = fragment.get("index")
        index = index if isinstance(index, int) else position
        call = self.calls.setdefault((choice_index, index), _Call(index=index))
        if fragment.get("id"):
            call.id = str(fragment["id"])
        if fragment.get("type"):
            call.type = str(fragment["type"])
        function = fragment.get("function") or {}
        if function.get("name") and not call.name:
            call.name = str(function["name"])
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # Mistral's schema allows an object
            call.arguments = [json.dumps(arguments, ensure_ascii=False)]
        elif isinstance(arguments, str):
            call.arguments.append(arguments)

    def pending(self) -> bool:
        return bool(self.calls)
