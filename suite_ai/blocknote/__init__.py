"""BlockNote documents (La Suite Docs' editor) on pycrdt: Yjs ⇄ blocks ⇄ markdown / JSON.

Plain library, no Django. Typical uses::

    result = read_base64(content, max_bytes=limit)          # stored Docs content → blocks + anomalies
    rendering = blocks_to_markdown(select_blocks(result.blocks, ids))   # model input + provenance
    blocks = markdown_to_blocks(model_output)               # model output → supported blocks only
    blocks_to_json(blocks)                                  # what the editor applies
    new_document_update(blocks)                             # a brand-new note
    insert_blocks_update(state, blocks).update              # an incremental edit of a document
"""

from __future__ import annotations

from .errors import (
    BlockNoteError,
    BlocksTooDeepError,
    DuplicateBlockIdError,
    InvalidBase64Error,
    InvalidBlockPropsError,
    InvalidBlocksError,
    InvalidEditError,
    InvalidInlineContentError,
    InvalidYjsUpdateError,
    MissingDocumentStoreError,
    UnknownBlockIdError,
    UnknownBlockTypeError,
    YDocTooComplexError,
    YDocTooLargeError,
)
from .json_blocks import blocks_from_json, blocks_to_json
from .markdown import BlockSpan, MarkdownRendering, blocks_to_markdown, markdown_to_blocks
from .model import (
    Block,
    InlineContent,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    block_depth,
    check_block_depth,
    iter_blocks,
    new_block_id,
    normalize_inline,
)
from .schema import BLOCKNOTE_SCHEMA, DOCS_SCHEMA, Schema, make_block, normalize_block, validate_blocks
from .select import select_blocks
from .yjs import (
    DEFAULT_MAX_UPDATE_BYTES,
    FRAGMENT_NAME,
    Anomaly,
    EditResult,
    ReadResult,
    UpdateLimits,
    append_children_update,
    check_update,
    decode_base64_update,
    insert_blocks_update,
    load_doc,
    new_document,
    new_document_update,
    read_base64,
    read_doc,
    read_update,
    replace_blocks_update,
    with_fresh_ids,
)


def markdown_to_update(markdown: str, *, schema: Schema = DOCS_SCHEMA) -> bytes:
    """Markdown → the full Yjs update of a new document (a note written to Docs)."""
    return new_document_update(markdown_to_blocks(markdown, schema=schema), schema=schema)


def update_to_markdown(
    update: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    schema: Schema = DOCS_SCHEMA,
    limits: UpdateLimits | None = None,
) -> MarkdownRendering:
    """A Yjs update → markdown with provenance (anomalies dropped; use ``read_update`` to see them)."""
    return blocks_to_markdown(read_update(update, max_bytes=max_bytes, schema=schema, limits=limits).blocks)


__all__ = [
    "BLOCKNOTE_SCHEMA",
    "DEFAULT_MAX_UPDATE_BYTES",
    "DOCS_SCHEMA",
    "FRAGMENT_NAME",
    "Anomaly",
    "Block",
    "BlockNoteError",
    "BlockSpan",
    "BlocksTooDeepError",
    "DuplicateBlockIdError",
    "EditResult",
    "InlineContent",
    "InlineNode",
    "InvalidBase64Error",
    "InvalidBlockPropsError",
    "InvalidBlocksError",
    "InvalidEditError",
    "InvalidInlineContentError",
    "InvalidYjsUpdateError",
    "Link",
    "MarkdownRendering",
    "MissingDocumentStoreError",
    "ReadResult",
    "Schema",
    "StyledText",
    "TableCell",
    "TableContent",
    "UnknownBlockIdError",
    "UnknownBlockTypeError",
    "UpdateLimits",
    "YDocTooComplexError",
    "YDocTooLargeError",
    "append_children_update",
    "block_depth",
    "blocks_from_json",
    "blocks_to_json",
    "blocks_to_markdown",
    "check_block_depth",
    "check_update",
    "decode_base64_update",
    "insert_blocks_update",
    "iter_blocks",
    "load_doc",
    "make_block",
    "markdown_to_blocks",
    "markdown_to_update",
    "new_block_id",
    "new_document",
    "new_document_update",
    "normalize_block",
    "normalize_inline",
    "read_base64",
    "read_doc",
    "read_update",
    "replace_blocks_update",
    "select_blocks",
    "update_to_markdown",
    "validate_blocks",
    "with_fresh_ids",
]
