"""The contract between the job engine and the pipeline: what a running action may see and do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from suite_ai.accounts.credentials import Credentials


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


@dataclass(frozen=True)
class CallUsage:
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    ttft_ms: int | None = None
    attempts: int = 1
    stage: str = "single"


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

    def record_call(self, call: CallUsage) -> None: ...
