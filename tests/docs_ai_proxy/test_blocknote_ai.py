"""The port of Docs' BlockNote AI service (``core/services/ai_services/blocknote.py``), checked
with the cases of Docs' own tests (``core/tests/test_services_ai_services.py``)."""

from __future__ import annotations

import json

import pytest
from pydantic_ai.ui.vercel_ai.request_types import TextUIPart, UIMessage

from suite_ai.docs_ai_proxy.blocknote_ai import (
    BLOCKNOTE_TOOL_STRICT_PROMPT,
    InvalidPayload,
    build_instructions,
    inject_document_state_messages,
    parse_request,
    tool_definitions_to_toolset,
)


def user(message_id: str, text: str, state: dict | None = None) -> UIMessage:
    metadata = {"documentState": state} if state is not None else None
    return UIMessage(role="user", id=message_id, parts=[TextUIPart(text=text)], metadata=metadata)


def test_messages_without_document_state_pass_unchanged():
    result = inject_document_state_messages([user("msg-1", "Hello")])
    assert [message.id for message in result] == ["msg-1"]


def test_a_selection_gets_four_parts_before_the_message():
    state = {
        "selection": {"start": 0, "end": 5},
        "selectedBlocks": [{"type": "paragraph", "content": "Hello"}],
        "blocks": [{"type": "paragraph", "content": "Hello"}, {"type": "paragraph", "content": "Wörld"}],
    }
    result = inject_document_state_messages([user("msg-1", "Fix this", state)])

    assert [message.id for message in result] == ["assistant-document-state-msg-1", "msg-1"]
    parts = result[0].parts
    assert result[0].role == "assistant" and len(parts) == 4
    assert isinstance(parts[0], TextUIPart) and "selection" in parts[0].text.lower()
    assert isinstance(parts[3], TextUIPart) and json.loads(parts[3].text) == state["blocks"]
    assert "Wörld" in parts[3].text  # ensure_ascii=False, as Docs


@pytest.mark.parametrize(("empty", "hint"), [(False, "prefer updating"), (True, "update the empty block")])
def test_without_selection_the_whole_document_is_described(empty, hint):
    state = {"selection": None, "blocks": [{"type": "paragraph", "content": ""}], "isEmptyDocument": empty}
    result = inject_document_state_messages([user("msg-1", "Write", state)])

    parts = result[0].parts
    assert len(parts) == 2
    assert isinstance(parts[0], TextUIPart)
    assert "no active selection" in parts[0].text.lower() and hint in parts[0].text.lower()


def test_only_user_messages_with_a_state_get_one():
    state = {"selection": None, "blocks": []}
    messages = [
        UIMessage(role="assistant", id="msg-0", parts=[TextUIPart(text="Previous")], metadata={"documentState": state}),
        user("msg-1", "Hello"),
        user("msg-2", "Fix", state),
    ]
    result = inject_document_state_messages(messages)
    assert [message.id for message in result] == ["msg-0", "msg-1", "assistant-document-state-msg-2", "msg-2"]


def test_tool_definitions_become_external_tools():
    toolset = tool_definitions_to_toolset(
        {
            "applyDocumentOperations": {
                "description": "Apply operations",
                "inputSchema": {"type": "object"},
                "outputSchema": {"type": "object"},
            },
            "myTool": {},
        }
    )
    tools = {tool.name: tool for tool in toolset.tool_defs}
    assert set(tools) == {"applyDocumentOperations", "myTool"}
    assert all(tool.kind == "external" for tool in tools.values())
    assert tools["applyDocumentOperations"].metadata == {"output_schema": {"type": "object"}}
    assert tools["myTool"].description == "" and tools["myTool"].parameters_json_schema == {}


def test_the_strict_prompt_only_with_apply_document_operations():
    assert build_instructions({"applyDocumentOperations": {}}) == BLOCKNOTE_TOOL_STRICT_PROMPT
    assert build_instructions({"otherTool": {}}) is None
    assert build_instructions(None) is None


def test_parse_request_reads_the_sdk_body_and_its_tool_definitions():
    body = {
        "id": "chat-1",
        "trigger": "submit-message",
        "messages": [{"id": "m", "role": "user", "parts": [{"type": "text", "text": "hi"}]}],
        "toolDefinitions": {"applyDocumentOperations": {"inputSchema": {"type": "object"}}},
    }
    run_input, tools = parse_request(json.dumps(body).encode())
    assert run_input.messages[0].id == "m"
    assert tools == body["toolDefinitions"]
    with pytest.raises(InvalidPayload):
        parse_request(b'{"foo": "bar", "trigger": "submit-message"}')
