"""Model errors, classified into stable codes the user sees and the job engine acts on."""

from __future__ import annotations


class ModelError(Exception):
    """``retryable`` errors are re-scheduled by the caller after ``retry_after`` seconds (when the
    gateway said so) or a backoff; the others fail the job with ``code`` and ``message``."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
