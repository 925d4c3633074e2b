"""What Docs' backend does with a request of BlockNote's AI extension, ported from Docs itself
(suitenumerique/docs, ``src/backend/core/services/ai_services/blocknote.py``, commit 4111e4e5):

* the body is the Vercel AI SDK's chat request, read by pydantic-ai's ``VercelAIAdapter``
  (``build_run_input`` from the raw bytes);
* each user message carrying ``metadata.documentState`` is preceded by an assistant message that
  describes the selection or the whole document (Docs' port of BlockNote's
  ``injectDocumentStateMessages``), in Docs' words, so that the model sees what Docs' model sees;
* the frontend's ``toolDefinitions`` become an ``ExternalToolset``: the model may call them, and
  the calls are streamed to the browser, which runs them (deferred tool requests);
* when ``applyDocumentOperations`` is among them, the server's strict instructions are added: the
  adapter strips any system prompt the client sends (``manage_system_prompt="server"``).

Plain functions of the request; no Django, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets.external import ExternalToolset
from pydantic_ai.ui.vercel_ai import VercelAIAdapter
from pydantic_ai.ui.vercel_ai.request_types import RequestData, TextUIPart, UIMessage, UIMessagePart

# Docs' BLOCKNOTE_TOOL_STRICT_PROMPT, word for word.
BLOCKNOTE_TOOL_STRICT_PROMPT = """
You are editing a BlockNote document via the tool applyDocumentOperations.

You MUST respond ONLY by calling applyDocumentOperations.
The tool input MUST be valid JSON:
{ "operations": [ ... ] }

Each operation MUST include "type" and it MUST be one of:
- "update" (requires: id, block)
- "add"    (requires: referenceId, position, blocks)
- "delete" (requires: id)

VALID SHAPES (FOLLOW EXACTLY):

Update:
{ "type":"update", "id":"<id$>", "block":"<p>...</p>" }
IMPORTANT: "block" MUST be a STRING containing a SINGLE valid HTML element.

Add:
{ "type":"add", "referenceId":"<id$>", "position":"before|after", "blocks":["<p>...</p>"] }
IMPORTANT: "blocks" MUST be an ARRAY OF STRINGS.
Each item MUST be a STRING containing a SINGLE valid HTML element.

Delete:
{ "type":"delete", "id":"<id$>" }

IDs ALWAYS end with "$". Use ids EXACTLY as provided.

Return ONLY the JSON tool input. No prose, no markdown.
"""
APPLY_DOCUMENT_OPERATIONS = "applyDocumentOperations"

SELECTION_INTRO = (
    "This is the latest state of the selection (ignore previous selections, you MUST issue operations against"
    " this latest version of the selection):"
)
DOCUMENT_WITH_SELECTION_INTRO = (
    "This is the latest state of the entire document (INCLUDING the selected text), you can use this to find the"
    " selected text to understand the context (but you MUST NOT issue operations against this document, you MUST"
    " issue operations against the selection):"
)
NO_SELECTION_INTRO = (
    "There is no active selection. This is the latest state of the document (ignore previous documents, you MUST"
    " issue operations against this latest version of the document). The cursor is BETWEEN two blocks as"
    " indicated by cursor: true."
)
EMPTY_DOCUMENT_HINT = "Because the document is empty, YOU MUST first update the empty block before adding new blocks."
NON_EMPTY_DOCUMENT_HINT = (
    "Prefer updating existing blocks over removing and adding (but this also depends on the user's question)."
)


class InvalidPayload(ValueError):
    """The body is not a request of BlockNote's AI extension (Docs: 400 "Invalid submitted payload")."""


def parse_request(body: bytes) -> tuple[RequestData, dict[str, Any] | None]:
    """The run input and the tool definitions, or ``InvalidPayload``. Docs lets pydantic validate
    the body; the fields pydantic does not know (``toolDefinitions``, ``documentState``) are
    checked here too, where Docs would answer 500 on a wrong type."""
    try:
        run_input = VercelAIAdapter.build_run_input(body)
    except ValueError as error:  # pydantic's ValidationError, JSON errors included
        raise InvalidPayload(str(error)) from None
    tools = (run_input.model_extra or {}).get("toolDefinitions")
    if tools is not None and (
        not isinstance(tools, dict) or not all(isinstance(spec, dict) for spec in tools.values())
    ):
        raise InvalidPayload("toolDefinitions must map tool names to objects")
    for message in run_input.messages:
        state = message.metadata.get("documentState") if isinstance(message.metadata, dict) else None
        if state is not None and not isinstance(state, dict):
            raise InvalidPayload("metadata.documentState must be an object")
    return run_input, tools or None


def inject_document_state_messages(messages: list[UIMessage]) -> list[UIMessage]:
    """Docs' ``AIService.inject_document_state_messages``: before each user message with
    ``metadata.documentState``, an assistant message with the selection and the document."""
    result: list[UIMessage] = []
    for message in messages:
        state = message.metadata.get("documentState") if isinstance(message.metadata, dict) else None
        if message.role == "user" and isinstance(state, dict):
            blocks = state.get("blocks")
            parts: list[UIMessagePart]
            if state.get("selection"):
                parts = [
                    TextUIPart(text=SELECTION_INTRO),
                    TextUIPart(text=json.dumps(state.get("selectedBlocks"))),
                    TextUIPart(text=DOCUMENT_WITH_SELECTION_INTRO),
                    TextUIPart(text=json.dumps(blocks, ensure_ascii=False)),
                ]
            else:
                # Docs joins the two sentences without a space: kept, the model saw it so.
                hint = EMPTY_DOCUMENT_HINT if state.get("isEmptyDocument") else NON_EMPTY_DOCUMENT_HINT
                parts = [
                    TextUIPart(text=NO_SELECTION_INTRO + hint),
                    TextUIPart(text=json.dumps(blocks, ensure_ascii=False)),
                ]
            result.append(UIMessage(role="assistant", id=f"assistant-document-state-{message.id}", parts=parts))
        result.append(message)
    return result


def tool_definitions_to_toolset(tool_definitions: Mapping[str, Mapping[str, Any]]) -> ExternalToolset[Any]:
    """Docs' ``AIService.tool_definitions_to_toolset``: advertised to the model, run by the browser."""
    return ExternalToolset(
        [
            ToolDefinition(
                name=name,
                description=spec.get("description", ""),
                parameters_json_schema=spec.get("inputSchema", {}),
                kind="external",
                metadata={"output_schema": spec.get("outputSchema")},
            )
            for name, spec in tool_definitions.items()
        ]
    )


def build_instructions(tool_definitions: Mapping[str, Any] | None) -> str | None:
    """Docs' ``AIService.build_instructions``: agent instructions survive the adapter, which
    drops every system message the client sends."""
    if tool_definitions and APPLY_DOCUMENT_OPERATIONS in tool_definitions:
        return BLOCKNOTE_TOOL_STRICT_PROMPT
    return None
