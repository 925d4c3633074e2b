"""The ai-proxy stream read by the Vercel AI SDK's own client in Node (``ai`` 6.0.205, the version
Docs' frontend pins), as BlockNote's AI extension reads it: ``DefaultChatTransport`` sends the
request and parses the stream, ``readUIMessageStream`` assembles the assistant's message.
``tests/ai_client`` holds the package (``make test`` installs it with ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.docs_ai_proxy.payloads import DOCUMENT_STATE, OPERATIONS, TOOL_DEFINITIONS
from tests.fakes.mistral_server import Behaviour

pytestmark = [pytest.mark.e2e, pytest.mark.interop, pytest.mark.django_db(transaction=True)]

CLIENT = Path(__file__).resolve().parents[1] / "ai_client"


def read_with_ai_sdk(url: str, token: str, text: str, **body: Any) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (Node 20+): the ai-proxy stream is read by the ai package's client")
    if not (CLIENT / "node_modules" / "ai").is_dir():
        pytest.fail(f"the ai package is not installed: run npm ci --prefix {CLIENT}")
    message = {"id": "msg-1", "role": "user", "parts": [{"type": "text", "text": text}]}
    if "state" in body:
        message["metadata"] = {"documentState": body.pop("state")}
    request = {
        "api": f"{url}/api/v1.0/documents/{uuid.uuid4()}/ai-proxy/",
        "headers": {"Authorization": f"Bearer {token}"},
        "messages": [message],
        "body": body,
    }
    done = subprocess.run(
        [node, str(CLIENT / "read_stream.mjs")],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    result: dict[str, Any] = json.loads(done.stdout)
    assert "error" not in result, result["error"]
    return result["message"]  # type: ignore[no-any-return]


def test_the_ai_sdk_reads_the_streamed_text(proxy, token, fake_model):
    fake_model.configure(reply="Voici un résumé du document.", chunks=4)

    message = read_with_ai_sdk(proxy, token, "Résume", state=DOCUMENT_STATE)

    assert message["role"] == "assistant"
    texts = [part["text"] for part in message["parts"] if part["type"] == "text"]
    assert texts == ["Voici un résumé du document."]


def test_the_ai_sdk_gets_the_tool_call_to_run_in_the_browser(proxy, token, fake_model):
    fake_model.when("Corrige", Behaviour(tool_call=("applyDocumentOperations", json.dumps(OPERATIONS))))

    message = read_with_ai_sdk(proxy, token, "Corrige", state=DOCUMENT_STATE, toolDefinitions=TOOL_DEFINITIONS)

    calls = [part for part in message["parts"] if part["type"] == "tool-applyDocumentOperations"]
    assert len(calls) == 1
    # What the AI extension waits for to apply the operations: the input, and no output yet.
    assert calls[0]["state"] == "input-available"
    assert calls[0]["input"] == OPERATIONS
    assert calls[0]["toolCallId"]
