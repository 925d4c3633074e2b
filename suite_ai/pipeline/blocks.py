"""BlockNote inputs and outputs of actions, through ``suite_ai.blocknote``.

Inputs (BlockNote JSON, or a Yjs document with a selection of block ids) are validated at
submission, so a bad one is a 400 and never a job. Results come back as BlockNote JSON beside the
markdown, so the editor can apply them without a lossy markdown round trip.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from suite_ai import blocknote
from suite_ai.blocknote import Block, BlockNoteError, UpdateLimits, YDocTooLargeError
from suite_ai.llm.chunking import Segment
from suite_ai.pipeline.context import ActionRequestError, JobFailure, Source


def _blocknote_message(error: BlockNoteError) -> str:
    """The refusal in the request's language. ``suite_ai.blocknote`` is a plain library with English
    messages; its codes are stable, so they are translated here. Where the problem is goes in the
    error's ``path`` and ``block_id``, the library's precise wording in its ``detail``."""
    messages = {
        "invalid_base64": _("input.ydoc is not valid base64."),
        "invalid_yjs_update": _("input.ydoc is not a Yjs document update."),
        "ydoc_too_large": _("The Yjs document is larger than the limit of %(limit)d bytes.")
        % {"limit": settings.SUITE_AI_MAX_YDOC_BYTES},
        "ydoc_too_complex": _(
            "The Yjs document is too complex to read (too deeply nested, too many items or too long a string)."
        ),
        "input_too_deep": _("Blocks are nested deeper than the limit of %(limit)d levels.")
        % {"limit": settings.SUITE_AI_MAX_BLOCK_DEPTH},
        "missing_document_store": _("input.ydoc holds no BlockNote document."),
        "invalid_blocks": _("The input is not valid BlockNote blocks."),
        "unknown_block_type": _("A block has a type the editor does not know."),
        "invalid_block_props": _("A block has invalid properties."),
        "invalid_inline_content": _("A block has invalid text content."),
        "duplicate_block_id": _("A block id is used twice."),
        "unknown_block_id": _("input.block_ids names a block that is not in the document."),
    }
    return messages.get(error.code) or _("The input is not a valid BlockNote document.")


def _refused(error: BlockNoteError) -> ActionRequestError:
    body = error.as_dict()
    status = 413 if isinstance(error, YDocTooLargeError) else 400
    extra: dict[str, Any] = {key: value for key, value in body.items() if key not in ("code", "message")}
    extra["detail"] = error.message
    if status == 413:
        extra["limit_bytes"] = settings.SUITE_AI_MAX_YDOC_BYTES
    return ActionRequestError(error.code, _blocknote_message(error), status, **extra)


def ydoc_limits() -> UpdateLimits:
    """The bounds every Yjs update is checked against before pycrdt reads it (settings)."""
    return UpdateLimits(
        max_bytes=settings.SUITE_AI_MAX_YDOC_BYTES,
        max_depth=settings.SUITE_AI_MAX_YDOC_DEPTH,
        max_structs=settings.SUITE_AI_MAX_YDOC_STRUCTS,
        max_string_bytes=settings.SUITE_AI_MAX_YDOC_STRING_BYTES,
    )


def _read_ydoc(ydoc: str, block_ids: list[str] | None) -> list[Block]:
    """Blocks of a base64 Yjs update (checked by the guard first), bounded in depth, optionally selected."""
    blocks = blocknote.read_base64(ydoc, limits=ydoc_limits()).blocks
    blocknote.check_block_depth(blocks, settings.SUITE_AI_MAX_BLOCK_DEPTH)
    if block_ids:
        blocks = blocknote.select_blocks(blocks, block_ids)
    return blocks


def _parse_blocks(blocks: Any) -> list[Block]:
    # Depth first, without recursion: the parser and the renderers recurse per level.
    blocknote.check_block_depth(blocks, settings.SUITE_AI_MAX_BLOCK_DEPTH)
    return blocknote.blocks_from_json(blocks)


def validate_blocks_input(blocks: Any) -> dict[str, Any]:
    if not isinstance(blocks, list):
        raise ActionRequestError("invalid_input", _("input.blocks must be a list of BlockNote blocks."))
    if not blocks:
        raise ActionRequestError("empty_input", _("input.blocks is empty: select some text first."))
    size = len(json.dumps(blocks, ensure_ascii=False).encode())
    if size > settings.SUITE_AI_MAX_INPUT_BYTES:
        limit = settings.SUITE_AI_MAX_INPUT_BYTES
        message = _("The %(kind)s input is %(size)d bytes; the limit is %(limit)d bytes.") % {
            "kind": "blocks",
            "size": size,
            "limit": limit,
        }
        raise ActionRequestError("input_too_large", message, 413, limit_bytes=limit)
    try:
        parsed = _parse_blocks(blocks)
    except BlockNoteError as error:
        raise _refused(error) from None
    if not _source_from_blocks(parsed).segments:
        raise ActionRequestError("empty_input", _("The blocks hold no text."))
    return {"blocks": blocks}


def validate_ydoc_input(ydoc: Any, block_ids: Any) -> dict[str, Any]:
    if not isinstance(ydoc, str) or not ydoc:
        raise ActionRequestError("invalid_input", _("input.ydoc must be the base64 text of a Yjs update."))
    if block_ids is not None and (not isinstance(block_ids, list) or not all(isinstance(i, str) for i in block_ids)):
        raise ActionRequestError("invalid_input", _("input.block_ids must be a list of block ids."))
    try:
        blocks = _read_ydoc(ydoc, block_ids)
    except BlockNoteError as error:
        raise _refused(error) from None
    if not _source_from_blocks(blocks).segments:
        raise ActionRequestError("empty_input", _("The selected blocks hold no text."))
    return {"ydoc": ydoc, **({"block_ids": block_ids} if block_ids else {})}


def _source_from_blocks(blocks: list[Block]) -> Source:
    """One segment per block, with its id and the headings above it."""
    rendering = blocknote.blocks_to_markdown(blocks)
    segments: list[Segment] = []
    headings: list[tuple[int, str]] = []
    for span in rendering.spans:
        text = rendering.markdown[span.start : span.end].strip()
        if not text:
            continue
        if span.type == "heading":
            level = len(text) - len(text.lstrip("#")) or 1
            headings = [h for h in headings if h[0] < level] + [(level, text.lstrip("#").strip())]
        segments.append(Segment(text, span.block_id, tuple(title for _, title in headings)))
    return Source(markdown=rendering.markdown, segments=segments, blocks=blocks)


def source_from_blocknote_input(job_input: dict[str, Any]) -> Source:
    try:
        if "blocks" in job_input:
            return _source_from_blocks(_parse_blocks(job_input["blocks"]))
        blocks = _read_ydoc(job_input["ydoc"], job_input.get("block_ids"))
    except BlockNoteError as error:  # validated at submission: only a changed limit gets here
        raise JobFailure(error.code, error.message) from None
    return _source_from_blocks(blocks)


def source_from_update(update: bytes) -> Source:
    """A Docs document's Yjs update → the text the model reads, with block ids."""
    try:
        blocks = blocknote.read_update(update, limits=ydoc_limits()).blocks if update else []
        blocknote.check_block_depth(blocks, settings.SUITE_AI_MAX_BLOCK_DEPTH)
    except BlockNoteError as error:
        raise JobFailure(error.code, f"The document's content could not be read: {error.message}") from None
    return _source_from_blocks(blocks)


def result_blocks(markdown: str) -> list[dict[str, Any]]:
    """Model output → BlockNote JSON the editor can insert (supported blocks only)."""
    return blocknote.blocks_to_json(blocknote.markdown_to_blocks(markdown))


def note_document(markdown: str) -> bytes:
    """A note's markdown → the full Yjs update of a new BlockNote document."""
    return blocknote.markdown_to_update(markdown)
