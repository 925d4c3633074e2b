"""The text an action works on, from what the editor sent (markdown, BlockNote blocks, a Yjs
document and a selection of block ids) or from the document itself, fetched from Docs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from suite_ai.llm.chunking import Segment

INPUT_KINDS = ("markdown", "blocks", "ydoc")


@dataclass
class Source:
    markdown: str
    segments: list[Segment] = field(default_factory=list)
    title: str | None = None
    # The blocks the text came from, when the editor sent blocks or a Yjs document.
    blocks: list[Any] | None = None


def _error(code: str, message: str, status: int = 400, **extra: Any) -> Exception:
    from suite_ai.pipeline.requests import ActionRequestError

    return ActionRequestError(code, message, status, **extra)


def _too_large(kind: str, size: int, limit: int) -> Exception:
    return _error(
        "input_too_large",
        f"The {kind} input is {size} bytes; the limit is {limit} bytes.",
        413,
        limit_bytes=limit,
    )


def validate_input(raw: Any) -> dict[str, Any] | None:
    """Check the input's shape and size; None means: read the document from Docs."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _error("invalid_input", 'The input must be an object such as {"markdown": "..."}.')
    kinds = [kind for kind in INPUT_KINDS if kind in raw]
    allowed = set(INPUT_KINDS) | {"block_ids"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _error("invalid_input", f"Unknown input field(s): {', '.join(unknown)}.")
    if len(kinds) != 1:
        raise _error(
            "invalid_input" if kinds else "missing_input",
            "Give exactly one of input.markdown, input.blocks or input.ydoc.",
        )
    kind = kinds[0]
    if "block_ids" in raw and kind != "ydoc":
        raise _error("invalid_input", "input.block_ids selects blocks of input.ydoc only.")
    if kind == "markdown":
        return {"markdown": _validate_markdown(raw["markdown"])}
    from suite_ai.pipeline.blocks import validate_blocks_input, validate_ydoc_input

    if kind == "blocks":
        return validate_blocks_input(raw["blocks"])
    return validate_ydoc_input(raw["ydoc"], raw.get("block_ids"))


def _validate_markdown(markdown: Any) -> str:
    if not isinstance(markdown, str):
        raise _error("invalid_input", "input.markdown must be a string.")
    if not markdown.strip():
        raise _error("empty_input", "input.markdown is empty: select some text first.")
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


def load_source(job_input: dict[str, Any] | None) -> Source:
    """Turn a validated input into the text the model reads, with block provenance."""
    if job_input is None:
        raise ValueError("documents fetched from Docs are loaded by suite_ai.pipeline.documents")
    if "markdown" in job_input:
        markdown = job_input["markdown"]
        return Source(markdown=markdown, segments=markdown_segments(markdown))
    from suite_ai.pipeline.blocks import source_from_blocknote_input

    return source_from_blocknote_input(job_input)
