"""Daily token quotas, per user and per document (SUITE_AI_DAILY_TOKENS_PER_USER / _PER_DOCUMENT).

A day is a UTC day. What counts: the tokens of the model calls recorded today (the usage ledger,
``ModelCall``), plus what the unfinished jobs reserve (the tokens of their input, counted at
submission), because a job's calls are recorded only when it ends: without the reservation, a
user could submit a hundred jobs before the first one counts. A submission is refused
(``429 quota_exceeded``) when what counts and what it would read itself are over the quota.
Two submissions racing may both pass: the quota is a budget, not a lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from suite_ai.jobs.models import FINISHED_STATUSES, Job, ModelCall


@dataclass(frozen=True)
class Quota:
    scope: str  # "user" or "document"
    used: int
    limit: int  # 0: no quota
    resets_at: dt.datetime

    @property
    def remaining(self) -> int | None:
        return None if not self.limit else max(0, self.limit - self.used)

    def allows(self, tokens: int) -> bool:
        """Room for a job reading ``tokens`` (it writes some too: a quota used up refuses any job)."""
        return not self.limit or (self.used < self.limit and self.used + tokens <= self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "limit": self.limit or None,
            "remaining": self.remaining,
            "resets_at": self.resets_at.isoformat().replace("+00:00", "Z"),
        }


class QuotaExceeded(Exception):
    def __init__(self, quota: Quota) -> None:
        super().__init__(quota.scope)
        self.quota = quota


def today(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The current UTC day: its start and the next one's (when the quotas reset)."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def used_today(*, owner_id: Any = None, document_id: uuid.UUID | None = None) -> int:
    start, _ = today()
    where = Q(owner_id=owner_id) if owner_id is not None else Q(document_id=document_id)
    calls = ModelCall.objects.filter(where, created_at__gte=start).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    reserved = (
        Job.objects.filter(where, created_at__gte=start)
        .exclude(status__in=FINISHED_STATUSES)
        .aggregate(tokens=Sum("reserved_tokens"))["tokens"]
    )
    return (calls["prompt"] or 0) + (calls["completion"] or 0) + (reserved or 0)


def user_quota(owner_id: Any) -> Quota:
    limit = settings.SUITE_AI_DAILY_TOKENS_PER_USER
    used = used_today(owner_id=owner_id)
    return Quota("user", used, limit, today()[1])


def document_quota(document_id: uuid.UUID) -> Quota:
    limit = settings.SUITE_AI_DAILY_TOKENS_PER_DOCUMENT
    used = used_today(document_id=document_id)
    return Quota("document", used, limit, today()[1])


def enabled() -> bool:
    return bool(settings.SUITE_AI_DAILY_TOKENS_PER_USER or settings.SUITE_AI_DAILY_TOKENS_PER_DOCUMENT)


def check(owner_id: Any, document_id: uuid.UUID, tokens: int) -> None:
    """Raise QuotaExceeded if a submission reading ``tokens`` would go over either quota."""
    if settings.SUITE_AI_DAILY_TOKENS_PER_USER:
        quota = user_quota(owner_id)
        if not quota.allows(tokens):
            raise QuotaExceeded(quota)
    if settings.SUITE_AI_DAILY_TOKENS_PER_DOCUMENT:
        quota = document_quota(document_id)
        if not quota.allows(tokens):
            raise QuotaExceeded(quota)
