"""The contract between the job engine and the pipeline, and the types the pipeline's modules share:
who submits (``Caller``), what a running action may see and do (``JobContext``), the text it works
on (``Source``), and how it fails (``ActionRequestError`` at submission, ``JobFailure`` in a job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from suite_ai.accounts.credentials import Credentials
from suite_ai.llm.chunking import Segment
from suite_ai.llm.usage import CallUsage  # one model call, as the job engine records it in its ledger


class CallerKind(StrEnum):
    DOCS_USER = "docs_user"  # an OIDC access token Docs also accepts: Docs checks the user's rights
    SERVICE = "service"  # the Docs backend, on behalf of a user it vouches for; it sends the content
    LOCAL = "local"  # a local development token: no identity Docs knows
    DOCS_SESSION = "docs_session"  # Docs' browser session cookie: Docs checks the rights on /api/v1.0/


@dataclass(frozen=True)
class Caller:
    """Who submits, as the pipeline needs to know it; built by the API from its authentication."""

    kind: CallerKind
    token: str = field(default="", repr=False)  # the access token (DOCS_USER) or session (DOCS_SESSION)


class ActionRequestError(Exception):
    """A submission refused before any job exists: a stable ``code``, a message for a person, the
    HTTP status, and extra fields for the error body (``retry_after`` also sets ``Retry-After``)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


class JobFailure(Exception):
    """The action cannot complete. ``code`` is stable and shown to the user with ``message``;
    a retryable failure is re-scheduled by the engine after ``retry_after`` (or a backoff)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class JobCancelled(Exception):
    """The owner cancelled the job; raised at the next checkpoint."""


@dataclass
class Source:
    """The text an action works on, with the block ids and headings each segment came from."""

    markdown: str
    segments: list[Segment] = field(default_factory=list)
    title: str | None = None
    # The blocks the text came from, when the editor sent blocks or a Yjs document.
    blocks: list[Any] | None = None


@dataclass
class ActionOutcome:
    result: dict[str, Any]
    usage: dict[str, Any] = field(default_factory=dict)
    prompt_version: str = ""


class JobContext(Protocol):
    job_id: str
    action: str
    options: dict[str, Any]
    input: dict[str, Any] | None
    document_id: str
    note_id: str | None
    owner_sub: str
    owner_email: str
    credentials: Credentials | None
    attempt: int

    def emit_delta(self, text: str) -> None: ...

    def set_progress(self, done: int, total: int) -> None: ...

    def should_cancel(self) -> bool: ...

    def checkpoint_get(self, key: str) -> str | None: ...

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None: ...

    def checkpoint_delete(self, key: str) -> None: ...

    def record_call(self, call: CallUsage) -> None: ...
