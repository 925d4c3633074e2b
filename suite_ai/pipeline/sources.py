"""The text an action works on, from what the editor sent (markdown, BlockNote blocks, a Yjs
document and a selection of block ids); a document read from Docs is ``documents.load_document``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from suite_ai.llm.chunking import Segment
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.blocks import (
    source_from_blocknote_input,
    validate_blocks_input,
    validate_ydoc_input,
)
from suite_ai.pipeline.context import ActionRequestError, Source

INPUT_KINDS = ("markdown", "blocks", "ydoc")


def _too_large(kind: str, size: int, limit: int) -> ActionRequestError:
    return ActionRequestError(
        "input_too_large",
        _("The %(kind)s input is %(size)d bytes; the limit is %(limit)d bytes.")
        % {"kind": kind, "size": size, "limit": limit},
        413,
        limit_bytes=limit,
    )


def check_scope(action: Action, job_input: dict[str, Any] | None) -> None:
    """A selection-only action needs a selection: text, blocks, or a Yjs document with block ids.
    A whole document (no input, or a Yjs document without ``block_ids``) is for actions whose
    scope includes ``document``."""
    if "document" in action.scope:
        return
    if job_input is None:
        raise ActionRequestError(
            "missing_input",
            _(
                "The %(action)s action works on a selection: send the selected text as input "
                '({"markdown": …}, {"blocks": […]} or {"ydoc": …, "block_ids": […]}).'
            )
            % {"action": action.name},
        )
    if "ydoc" in job_input and not job_input.get("block_ids"):
        raise ActionRequestError(
            "missing_input",
            _("The %(action)s action works on a selection: with input.ydoc, say which blocks in input.block_ids.")
            % {"action": action.name},
        )


def validate_input(raw: Any) -> dict[str, Any] | None:
    """Check the input's shape and size; None means: read the document from Docs."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ActionRequestError("invalid_input", _('The input must be an object such as {"markdown": "..."}.'))
    kinds = [kind for kind in INPUT_KINDS if kind in raw]
    allowed = set(INPUT_KINDS) | {"block_ids"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ActionRequestError(
            "invalid_input", _("Unknown input field(s): %(fields)s.") % {"fields": ", ".join(unknown)}
        )
    if len(kinds) != 1:
        raise ActionRequestError(
            "invalid_input" if kinds else "missing_input",
            _("Give exactly one of input.markdown, input.blocks or input.ydoc."),
        )
    kind = kinds[0]
    if "block_ids" in raw and kind != "ydoc":
        raise ActionRequestError("invalid_input", _("input.block_ids selects blocks of input.ydoc only."))
    if kind == "markdown":
        return {"markdown": _validate_markdown(raw["markdown"])}
    if kind == "blocks":
        return validate_blocks_input(raw["blocks"])
    return validate_ydoc_input(raw["ydoc"], raw.get("block_ids"))


def _validate_markdown(markdown: Any) -> str:
    if not isinstance(markdown, str):
        raise ActionRequestError("invalid_input", _("input.markdown must be a string."))
    if not markdown.strip():
        raise ActionRequestError("empty_input", _("input.markdown is empty: select some text first."))
    size = len(markdown.encode())
    if size > settings.SUITE_AI_MAX_INPUT_BYTES:
        raise _too_large("markdown", size, settings.SUITE_AI_MAX_INPUT_BYTES)
    return markdown


def markdown_segments(markdown: str) -> list[Segment]:
    """Split plain markdown on blank lines, keeping the headings each paragraph sits under."""
    segments: list[Segment] = []
    headings: list[tuple[int, str]] = []
    for paragraph in _paragraphs(markdown):
        first = paragraph.lstrip()
        if first.startswith("#"):
            level = len(first) - len(first.lstrip("#"))
            if 1 <= level <= 6 and first[level : level + 1] in (" ", ""):
                headings = [h for h in headings if h[0] < level] + [(level, first[level:].strip())]
        segments.append(Segment(paragraph, None, tuple(title for _, title in headings)))
    return segments


def _paragraphs(markdown: str) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                paragraphs.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def load_source(job_input: dict[str, Any]) -> Source:
    """Turn a validated input into the text the model reads, with block provenance."""
    if "markdown" in job_input:
        markdown = job_input["markdown"]
        return Source(markdown=markdown, segments=markdown_segments(markdown))
    return source_from_blocknote_input(job_input)
