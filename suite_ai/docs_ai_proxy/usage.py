"""The ai-proxy's model usage, in the ledger every quota and report reads (``ModelCall``)."""

from __future__ import annotations

import uuid

from suite_ai.accounts.models import User
from suite_ai.jobs.models import ModelCall

STAGE = "ai_proxy"


def record_call(
    *,
    user: User,
    document_id: uuid.UUID,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    requests: int,
    latency_ms: int,
    ttft_ms: int | None,
) -> ModelCall:
    """One stream, one row, outside any job: ``requests`` model requests of one agent run (a
    run that calls a server tool makes several) count as its ``attempts``."""
    return ModelCall.objects.create(
        job=None,
        owner=user,
        document_id=document_id,
        stage=STAGE,
        model=model[:128],
        prompt_tokens=max(0, prompt_tokens),
        completion_tokens=max(0, completion_tokens),
        latency_ms=max(0, latency_ms),
        ttft_ms=ttft_ms,
        attempts=max(1, min(requests, 32767)),
    )
