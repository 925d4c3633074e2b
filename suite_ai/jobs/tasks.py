"""Celery tasks. They carry job ids only and are safe to deliver twice (the claim is atomic)."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings

from suite_ai.audit import services as audit
from suite_ai.jobs import runner, services

logger = logging.getLogger(__name__)


@shared_task(name="suite_ai.jobs.tasks.run_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self: Task, job_id: str) -> str:
    return runner.run(job_id, worker=self.request.hostname or "worker")


@shared_task(name="suite_ai.jobs.tasks.reconcile_jobs")
def reconcile_jobs() -> dict[str, int]:
    report = services.reconcile(
        heartbeat_timeout=settings.SUITE_AI_HEARTBEAT_TIMEOUT,
        queued_redelivery_after=settings.SUITE_AI_QUEUED_REDELIVERY_AFTER,
        max_attempts=settings.SUITE_AI_MAX_ATTEMPTS,
        job_timeout=settings.SUITE_AI_JOB_TIMEOUT,
        max_age=settings.SUITE_AI_MAX_RUNNING_AGE,
    )
    if report.requeued or report.failed or report.redelivered or report.timed_out:
        logger.info("reconciled jobs: %s", report)
    return vars(report)


@shared_task(name="suite_ai.jobs.tasks.purge_jobs")
def purge_jobs() -> int:
    return services.purge(settings.SUITE_AI_RETENTION_DAYS)


@shared_task(name="suite_ai.jobs.tasks.purge_audit_records")
def purge_audit_records() -> int:
    return audit.purge(settings.SUITE_AI_AUDIT_RETENTION_DAYS)
