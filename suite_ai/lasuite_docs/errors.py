"""Typed errors for calls to La Suite Docs, each with a stable ``code``.

The codes are part of suite_ai's API (a failed job reports them), so they never change:

=============================  ======  ==========================================================
code                           status  meaning
=============================  ======  ==========================================================
``docs_bad_request``           400     Docs refused the payload; ``errors`` holds Docs' message
``docs_unauthorized``          401     the token is missing, expired, revoked or unknown to Docs
                                       (Docs' external API answers an HTML 400 for most of these)
``docs_forbidden``             403     the user (or the external API allow-list) does not allow it
``docs_collaboration_locked``  403     the collaboration safeguard refused a REST write (subclass
                                       of ``DocsForbidden``; retry after ``retry_after`` seconds)
``docs_not_found``             404     no such document
``docs_rate_limited``          429     Docs' throttle; ``retry_after`` says when to come back
``docs_unavailable``           5xx…    Docs down, timing out or answering 5xx, after the retries
``docs_note_conflict``         –       the note id is taken by a document that is not our note
``docs_note_incomplete``       –       the note exists in Docs but its content could not be written
``docs_outcome_unknown``       5xx…    a create without an id was sent and Docs' answer was lost
                                       (5xx or timeout after sending): it may have been applied
``docs_note_outcome_unknown``  –       such a create cannot be checked, so it is not repeated
``docs_not_configured``        –       the call needs a credential or feature not configured
``docs_bad_response``          –       Docs answered something that does not follow its contract
=============================  ======  ==========================================================

Messages never contain a token or document content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DocsError(Exception):
    """Base class. ``retryable`` tells a caller whether trying again later can succeed."""

    code = "docs_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        """The error as suite_ai reports it: ``{"code", "message", …}``."""
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class DocsBadRequest(DocsError):
    code = "docs_bad_request"


class DocsUnauthorized(DocsError):
    code = "docs_unauthorized"


class DocsForbidden(DocsError):
    code = "docs_forbidden"


class DocsCollaborationLocked(DocsForbidden):
    """Docs' ``COLLABORATION_WS_NOT_CONNECTED_READ_ONLY`` safeguard: people are connected to the
    document's room, or another session wrote it without websocket in the last 120 s."""

    code = "docs_collaboration_locked"
    retryable = True


class DocsNotFound(DocsError):
    code = "docs_not_found"


class DocsRateLimited(DocsError):
    """Docs answered 429 and the wait is longer than the client is willing to sleep inline:
    re-schedule the work ``retry_after`` seconds from now instead of blocking a worker."""

    code = "docs_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float, status: int = 429) -> None:
        super().__init__(message, status=status, retry_after=retry_after)


class DocsUnavailable(DocsError):
    code = "docs_unavailable"
    retryable = True


class DocsNoteConflict(DocsError):
    """The note's id already exists but is not a child of the expected parent that the user may
    update: never write into somebody else's document."""

    code = "docs_note_conflict"


class DocsOutcomeUnknown(DocsError):
    """A request that is not safe to repeat reached Docs and its answer was lost (5xx, timeout).
    Whether Docs applied it is unknown: find out before sending it again."""

    code = "docs_outcome_unknown"


class DocsNoteOutcomeUnknown(DocsError):
    """An earlier create of the note may have succeeded and there is no way to check it: the create
    is not repeated, so that the user never gets two notes."""

    code = "docs_note_outcome_unknown"


class DocsNoteIncomplete(DocsError):
    """The note document exists in Docs but writing its content failed: the message names it, so
    that an incomplete note is never left unexplained. Retryable when its cause is."""

    code = "docs_note_incomplete"

    def __init__(self, cause: DocsError, *, document_id: str, url: str) -> None:
        super().__init__(
            f"The note {url} exists in Docs but is still empty: writing its content failed ({cause.message})",
            status=cause.status,
            retry_after=cause.retry_after,
        )
        self.retryable = cause.retryable
        self.cause = cause
        self.document_id = document_id
        self.url = url


class DocsNotConfigured(DocsError):
    code = "docs_not_configured"


class DocsBadResponse(DocsError):
    code = "docs_bad_response"
    retryable = True


def message_from_body(body: Any, default: str) -> str:
    """A short human message from a DRF error body (``{"detail": …}``, ``{"field": [..]}``, a string)."""
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    if isinstance(body, Mapping):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])[:300]
        parts = []
        for field, value in body.items():
            items = value if isinstance(value, list) else [value]
            parts.append(f"{field}: {' '.join(str(item) for item in items)}")
        if parts:
            return "; ".join(parts)[:300]
    if isinstance(body, list) and body:
        return " ".join(str(item) for item in body)[:300]
    return default
