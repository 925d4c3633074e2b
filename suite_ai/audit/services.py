"""Writing and reading the audit trail (``AuditRecord``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from suite_ai.audit.models import AuditRecord
from suite_ai.jobs.models import Job, JobCheckpoint
from suite_ai.pipeline.documents import SOURCE_REVISION

logger = logging.getLogger(__name__)


def _sha256(value: Any) -> str:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _output_hash(result: Any) -> str:
    """SHA-256 of the markdown the job produced (what a reader may later want to match), else of
    the whole result; empty without a result."""
    if not result:
        return ""
    markdown = result.get("markdown") if isinstance(result, dict) else None
    return _sha256(markdown if isinstance(markdown, str) else result)


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and value >= 0 else 0


def record_finished(job_id: uuid.UUID | str) -> AuditRecord | None:
    """The audit record of a job that has just reached its final state, read from its row (what
    was committed, whichever path finished it). Written once: a second call returns None. Never
    raises: the job is finished either way, and a failure is logged with the job's id only."""
    try:
        job = Job.objects.select_related("owner").get(pk=job_id)
    except Exception:
        logger.exception("audit record not written for job %s", job_id)
        return None
    return record_final(job)


def record_final(job: Job) -> AuditRecord | None:
    """The audit record of ``job`` as its final transaction has just written it, for a caller that
    holds that state (the worker, at success: reading the row back cost it more than the rest of
    the record). Same guarantees as ``record_finished``."""
    try:
        usage = job.usage if isinstance(job.usage, dict) else {}
        if job.input is not None:
            source, revision = "input", f"sha256:{_sha256(job.input)}"
        else:
            checkpoint = JobCheckpoint.objects.filter(job_id=job.id, key=SOURCE_REVISION)
            source, revision = "docs", checkpoint.values_list("output", flat=True).first() or ""
        models_used = usage.get("models")
        record = AuditRecord(
            job_id=job.id,
            user_id=job.owner_id,
            user_sub=job.owner.sub,
            user_email=job.owner.email,
            action=job.action,
            status=job.status,
            error_code=job.error_code,
            engine=str(usage.get("engine") or ""),
            model=str(usage.get("model") or ""),
            models_used=sorted(str(m) for m in models_used) if isinstance(models_used, list | dict) else [],
            prompt_version=job.prompt_version,
            document_id=job.document_id,
            source=source,
            source_revision=revision[:255],
            output_sha256=_output_hash(job.result),
            note_id=job.note_id if isinstance(job.result, dict) and job.result.get("note") else None,
            calls=_count(usage, "calls"),
            prompt_tokens=_count(usage, "prompt_tokens"),
            completion_tokens=_count(usage, "completion_tokens"),
            attempts=job.attempts,
            created_at=job.created_at,
            finished_at=job.finished_at or job.created_at,
        )
        with transaction.atomic():
            record.save(force_insert=True)
        return record
    except IntegrityError:
        return None  # already recorded
    except Exception:
        logger.exception("audit record not written for job %s", job.id)
        return None


def purge(retention_days: int) -> int:
    """Delete the records of jobs that ended more than ``retention_days`` ago; returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=retention_days)
    deleted, _ = AuditRecord.objects.filter(finished_at__lt=cutoff).delete()
    if deleted:
        logger.info("audit records purged: %d ended before %s", deleted, cutoff.date().isoformat())
    return deleted


def records(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None, user: str | None = None,
    document: uuid.UUID | None = None, action: str | None = None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The records matching the filters, oldest first, as JSON-ready dicts. ``user``: a subject or an e-mail."""
    query = AuditRecord.objects.order_by("finished_at", "id")
    if since is not None:
        query = query.filter(finished_at__gte=since)
    if until is not None:
        query = query.filter(finished_at__lt=until)
    if user:
        query = query.filter(user_sub=user) | query.filter(user_email__iexact=user)
    if document is not None:
        query = query.filter(document_id=document)
    if action:
        query = query.filter(action=action)
    for record in query.iterator(chunk_size=500):
        yield as_dict(record)


def as_dict(record: AuditRecord) -> dict[str, Any]:
    return {
        "job_id": str(record.job_id),
        "finished_at": record.finished_at.isoformat(),
        "created_at": record.created_at.isoformat(),
        "user": {"sub": record.user_sub, "email": record.user_email},
        "action": record.action,
        "status": record.status,
        "error_code": record.error_code,
        "engine": record.engine,
        "model": record.model,
        "models": record.models_used,
        "prompt_version": record.prompt_version,
        "document_id": str(record.document_id),
        "source": record.source,
        "source_revision": record.source_revision,
        "output_sha256": record.output_sha256,
        "note_id": str(record.note_id) if record.note_id else None,
        "calls": record.calls,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "attempts": record.attempts,
    }
