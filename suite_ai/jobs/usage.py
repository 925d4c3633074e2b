"""Model usage totals, read from the ledger of model calls: per user, per document, per day.

The quotas will be built on these; operators read them with ``manage.py usage_report``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from suite_ai.jobs.models import ModelCall

TOTALS = {"calls": Count("id"), "prompt_tokens": Sum("prompt_tokens"), "completion_tokens": Sum("completion_tokens")}
GROUPS = {"day": TruncDate("created_at"), "document": "document_id", "user": "owner__sub", "model": "model"}


def _calls(
    owner_id: Any = None, document_id: uuid.UUID | None = None, since: dt.date | None = None
) -> QuerySet[ModelCall]:
    calls = ModelCall.objects.all()
    if owner_id is not None:
        calls = calls.filter(owner_id=owner_id)
    if document_id is not None:
        calls = calls.filter(document_id=document_id)
    if since is not None:
        calls = calls.filter(created_at__date__gte=since)
    return calls


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (value or 0 if key in TOTALS else str(value)) for key, value in row.items()}


def totals(group_by: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    calls = _calls(**filters).order_by()
    if group_by is None:
        return [_clean(calls.aggregate(**TOTALS))]
    grouping = GROUPS[group_by]
    rows = calls.annotate(**{group_by: grouping}) if not isinstance(grouping, str) else calls
    key = group_by if not isinstance(grouping, str) else grouping
    result = rows.values(key).annotate(**TOTALS).order_by(key)
    return [_clean({group_by: row[key], **{k: row[k] for k in TOTALS}}) for row in result]
