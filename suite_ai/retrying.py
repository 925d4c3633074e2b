"""When to try a peer again: ``Retry-After`` read one way, and one backoff, for the model gateway,
the Docs client and the job engine alike. No dependency: every layer may use it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_delay(attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter" for retry ``attempt`` (0 = the first retry): a
    uniform draw in [d/2, d] where d = min(cap, base * 2**attempt). It spreads the retries of many
    callers that failed together while keeping a real minimum wait."""
    ceiling = min(cap, base * (2 ** max(0, attempt)))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
