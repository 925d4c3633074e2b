"""The ai-proxy's rows in the usage ledger: counted like a job's, purged at the same age."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.docs_ai_proxy.usage import record_call
from suite_ai.jobs import quotas, services, usage
from suite_ai.jobs.models import ModelCall

pytestmark = pytest.mark.django_db


def test_a_stream_counts_for_the_user_and_the_document_like_a_job():
    user = User.objects.create(sub="alice")
    document_id = uuid.uuid4()
    record_call(
        user=user,
        document_id=document_id,
        model="mistral-small-latest",
        prompt_tokens=120,
        completion_tokens=30,
        requests=1,
        latency_ms=900,
        ttft_ms=200,
    )
    assert quotas.used_today(owner_id=user.pk) == 150
    assert quotas.used_today(document_id=document_id) == 150
    assert usage.totals(group_by="user") == [
        {"user": "alice", "calls": 1, "prompt_tokens": 120, "completion_tokens": 30}
    ]


def test_the_purge_removes_job_less_rows_past_retention_only():
    user = User.objects.create(sub="bob")
    old, recent = (
        record_call(
            user=user,
            document_id=uuid.uuid4(),
            model="m",
            prompt_tokens=1,
            completion_tokens=1,
            requests=1,
            latency_ms=1,
            ttft_ms=None,
        )
        for _ in range(2)
    )
    ModelCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))

    services.purge(30)

    assert list(ModelCall.objects.values_list("pk", flat=True)) == [recent.pk]
