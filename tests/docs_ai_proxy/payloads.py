"""Requests as BlockNote's AI extension sends them to ai-proxy, through the Vercel AI SDK's
``DefaultChatTransport`` (Docs' ``useAI.tsx``), and the stream's chunks as the SDK reads them."""

from __future__ import annotations

import json
from typing import Any

import httpx

OPERATIONS = {"operations": [{"type": "update", "id": "block-1$", "block": "<p>Bonjour le monde</p>"}]}
# BlockNote's applyDocumentOperations tool, as its AI extension declares it (abridged schema).
TOOL_DEFINITIONS = {
    "applyDocumentOperations": {
        "description": "Apply operations to the document",
        "inputSchema": {
            "type": "object",
            "properties": {"operations": {"type": "array", "items": {"type": "object"}}},
            "required": ["operations"],
        },
        "outputSchema": {"type": "object"},
    }
}
DOCUMENT_STATE = {
    "selection": None,
    "blocks": [{"id": "block-1$", "block": "<p>Hello world</p>"}, {"cursor": True}],
    "isEmptyDocument": False,
}


def chat_body(text: str, *, tools: bool = False, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of ``DefaultChatTransport.sendMessages`` (``ai`` 6): ``id``, ``messages`` (UI
    messages) and ``trigger``, plus the extension's own ``body`` fields (``toolDefinitions``)."""
    message: dict[str, Any] = {"id": "msg-1", "role": "user", "parts": [{"type": "text", "text": text}]}
    if state is not None:
        message["metadata"] = {"documentState": state}
    body: dict[str, Any] = {"id": "chat-1", "messages": [message], "trigger": "submit-message"}
    if tools:
        body["toolDefinitions"] = TOOL_DEFINITIONS
    return body


def events(stream: str) -> list[dict[str, Any]]:
    """The UI message stream's chunks (``data: {json}`` lines; ``[DONE]`` ends it)."""
    chunks = []
    for line in stream.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            chunks.append(json.loads(line.removeprefix("data: ")))
    return chunks


def post(url: str, document_id: Any, body: Any, token: str | None = None, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(
        f"{url}/api/v1.0/documents/{document_id}/ai-proxy/",
        content=content,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )
