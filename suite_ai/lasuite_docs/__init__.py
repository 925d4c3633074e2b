"""La Suite Docs REST client: version detection, content read/write, exactly-once child notes,
create-for-owner. Plain Python (httpx), no Django. Contracts: shared/reference/lasuite-docs.md."""

from suite_ai.lasuite_docs.auth import Anonymous, ServerToServerToken, UserToken
from suite_ai.lasuite_docs.client import CONFIG_CACHE, DocsClient, DocsContent, DocsDocument, RetryPolicy
from suite_ai.lasuite_docs.errors import (
    DocsBadRequest,
    DocsBadResponse,
    DocsCollaborationLocked,
    DocsError,
    DocsForbidden,
    DocsNotConfigured,
    DocsNoteConflict,
    DocsNotFound,
    DocsRateLimited,
    DocsUnauthorized,
    DocsUnavailable,
)
from suite_ai.lasuite_docs.notes import (
    NoteMode,
    NoteOutcome,
    NoteRef,
    create_owner_note,
    ensure_child_note,
    new_note_id,
    upload_child_note,
    write_child_note,
    write_note,
)
from suite_ai.lasuite_docs.version import ContentApi, DocsConfig, parse_release

__all__ = [
    "CONFIG_CACHE",
    "Anonymous",
    "ContentApi",
    "DocsBadRequest",
    "DocsBadResponse",
    "DocsClient",
    "DocsCollaborationLocked",
    "DocsConfig",
    "DocsContent",
    "DocsDocument",
    "DocsError",
    "DocsForbidden",
    "DocsNotConfigured",
    "DocsNotFound",
    "DocsNoteConflict",
    "DocsRateLimited",
    "DocsUnauthorized",
    "DocsUnavailable",
    "NoteMode",
    "NoteOutcome",
    "NoteRef",
    "RetryPolicy",
    "ServerToServerToken",
    "UserToken",
    "create_owner_note",
    "ensure_child_note",
    "new_note_id",
    "parse_release",
    "upload_child_note",
    "write_child_note",
    "write_note",
]
