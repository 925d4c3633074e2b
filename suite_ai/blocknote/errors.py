"""Typed errors: each has a stable snake_case ``code`` (for API error bodies) and a human message."""

from __future__ import annotations


class BlockNoteError(ValueError):
    """Base class. ``code`` is stable and machine-readable; ``str(error)`` is for a person."""

    code = "blocknote_error"

    def __init__(self, message: str, *, block_id: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.block_id = block_id
        self.path = path

    def as_dict(self) -> dict[str, str]:
        """The ``{"code", "message"}`` body the REST API returns, plus where the problem is."""
        body = {"code": self.code, "message": self.message}
        if self.block_id is not None:
            body["block_id"] = self.block_id
        if self.path is not None:
            body["path"] = self.path
        return body


class InvalidBase64Error(BlockNoteError):
    code = "invalid_base64"


class InvalidYjsUpdateError(BlockNoteError):
    code = "invalid_yjs_update"


class YDocTooLargeError(BlockNoteError):
    code = "ydoc_too_large"


class YDocTooComplexError(BlockNoteError):
    """Nesting, struct count or a string of the update is over a limit (``yjs.guard``)."""

    code = "ydoc_too_complex"


class MissingDocumentStoreError(BlockNoteError):
    code = "missing_document_store"


class InvalidBlocksError(BlockNoteError):
    """The input is not a list of blocks at all, or a block is structurally wrong (content shape, ids)."""

    code = "invalid_blocks"


class UnknownBlockTypeError(InvalidBlocksError):
    code = "unknown_block_type"


class InvalidBlockPropsError(InvalidBlocksError):
    code = "invalid_block_props"


class InvalidInlineContentError(InvalidBlocksError):
    code = "invalid_inline_content"


class DuplicateBlockIdError(InvalidBlocksError):
    code = "duplicate_block_id"


class BlocksTooDeepError(BlockNoteError):
    """Blocks nest deeper than the caller's limit (``model.check_block_depth``)."""

    code = "input_too_deep"


class UnknownBlockIdError(BlockNoteError):
    code = "unknown_block_id"


class InvalidEditError(BlockNoteError):
    """An edit that cannot be applied to this document (e.g. a range whose ends have different parents)."""

    code = "invalid_edit"


ERROR_CLASSES: tuple[type[BlockNoteError], ...] = (
    InvalidBase64Error,
    InvalidYjsUpdateError,
    YDocTooLargeError,
    YDocTooComplexError,
    MissingDocumentStoreError,
    InvalidBlocksError,
    UnknownBlockTypeError,
    InvalidBlockPropsError,
    InvalidInlineContentError,
    DuplicateBlockIdError,
    BlocksTooDeepError,
    UnknownBlockIdError,
    InvalidEditError,
)
