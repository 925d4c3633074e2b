"""The reconciler and the purge keep no job, and no input text, past its time: a job still
unfinished ``SUITE_AI_MAX_RUNNING_AGE`` after its submission fails (``job_timeout``), whatever its
state, and the purge removes jobs submitted before the retention even when they ended today."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs import services, tasks
from suite_ai.jobs.models import Job, JobEvent, JobStatus
from tests.support.settings_env import settings_from

pytestmark = pytest.mark.django_db

MONTHS = timedelta(days=90)


@pytest.fixture
def owner() -> User:
    return User.objects.create(sub="owner")


def make_job(owner: User, **fields) -> Job:
    defaults = {
        "document_id": uuid.uuid4(),
        "action": "summarize",
        "input": {"markdown": "Texte confidentiel."},
        "input_hash": "h",
    }
    return Job.objects.create(owner=owner, enqueued_at=timezone.now(), **{**defaults, **fields})


def submitted_ago(job: Job, age: timedelta) -> None:
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - age)


def reconcile(max_age: float | None) -> services.ReconcileReport:
    return services.reconcile(
        heartbeat_timeout=60, queued_redelivery_after=300, max_attempts=5, job_timeout=3600, max_age=max_age
    )


def test_a_job_running_for_months_with_a_live_heartbeat_fails_and_is_purged_with_its_text(owner):
    # Claimed again a moment ago (its last retry), heartbeating: nothing but its age is wrong.
    job = make_job(owner)
    assert services.claim(job.id, "w1") is not None
    submitted_ago(job, MONTHS)

    report = reconcile(max_age=86400)

    assert report.timed_out == 1
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "job_timeout")
    assert JobEvent.objects.get(job=job, kind="failed").data["error"]["code"] == "job_timeout"
    assert services.purge(30) >= 1
    assert not Job.objects.filter(id=job.id).exists()
    assert not JobEvent.objects.filter(job_id=job.id).exists()


def test_a_job_rescheduled_again_and_again_fails_at_its_maximum_age(owner):
    job = make_job(owner)
    claimed = services.claim(job.id, "w1")
    assert claimed is not None
    services.reschedule(claimed, 3600, "model_unavailable")
    submitted_ago(job, timedelta(days=2))

    assert reconcile(max_age=86400).timed_out == 1
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "job_timeout")


def test_young_jobs_and_no_maximum_age_leave_jobs_alone(owner):
    young = make_job(owner)
    services.claim(young.id, "w1")
    submitted_ago(young, timedelta(hours=23))
    old = make_job(owner)
    submitted_ago(old, MONTHS)
    Job.objects.filter(id=old.id).update(available_at=timezone.now() + timedelta(hours=1))

    assert reconcile(max_age=86400).timed_out == 1  # only the old one
    assert Job.objects.get(id=young.id).status == JobStatus.RUNNING
    assert reconcile(max_age=None).timed_out == 0


def test_the_beat_task_applies_the_setting(owner, settings):
    settings.SUITE_AI_MAX_RUNNING_AGE = 3600
    job = make_job(owner)
    services.claim(job.id, "w1")
    submitted_ago(job, timedelta(hours=2))
    assert tasks.reconcile_jobs()["timed_out"] == 1
    assert Job.objects.get(id=job.id).error_code == "job_timeout"


def test_the_purge_keeps_recent_and_unfinished_jobs(owner):
    recent = make_job(owner)
    services.claim(recent.id, "w")
    services.fail(recent, "x", "y")
    unfinished = make_job(owner)
    submitted_ago(unfinished, MONTHS)  # the reconciler fails it first; the purge never deletes a live job
    assert services.purge(30) == 0
    assert Job.objects.filter(id__in=[recent.id, unfinished.id]).count() == 2


def test_the_maximum_age_must_be_below_the_retention(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SUITE_AI_MAX_RUNNING_AGE: 2592000 is not valid"):
        settings_from(monkeypatch, SUITE_AI_MAX_RUNNING_AGE="2592000", SUITE_AI_RETENTION_DAYS="30")
    with pytest.raises(ImproperlyConfigured, match="SUITE_AI_MODEL_RETRY_BUDGET: 7200 is not valid"):
        settings_from(monkeypatch, SUITE_AI_MODEL_RETRY_BUDGET="7200", SUITE_AI_MAX_RUNNING_AGE="3600")
    assert settings_from(monkeypatch)["SUITE_AI_MAX_RUNNING_AGE"] == 86400


def test_a_reconciler_late_on_a_stale_attempt_leaves_the_next_attempt_alone(owner):
    # Two reconcile runs at once (beat's runs queued while no worker was up): the first takes the
    # stale attempt back, a worker starts the next one; the second, which read the job while it
    # was stale, must not take back the attempt a live worker now runs.
    job = make_job(owner)
    services.claim(job.id, "dead-worker")
    Job.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    seen_stale_by_the_second_run = Job.objects.get(id=job.id)
    assert reconcile(max_age=None).requeued == 1
    Job.objects.filter(id=job.id).update(available_at=None)
    assert services.claim(job.id, "live-worker") is not None

    assert not services.reschedule(seen_stale_by_the_second_run, 0, "worker_lost", attempt=1)
    assert not services.fail(seen_stale_by_the_second_run, "worker_lost", "…", attempt=1)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (JobStatus.RUNNING, 2, "live-worker")


def test_a_worker_that_outlived_its_attempt_leaves_the_next_attempt_alone(owner):
    # A worker whose heartbeats stopped (its database unreachable for a while) but which kept
    # running: the reconciler gave the job to another worker, and the first one finishes late.
    job = make_job(owner)
    first = services.claim(job.id, "slow-worker")
    Job.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert reconcile(max_age=None).requeued == 1
    Job.objects.filter(id=job.id).update(available_at=None)
    second = services.claim(job.id, "live-worker")
    assert (first.attempts, second.attempts) == (1, 2)

    assert not services.succeed(first, {"markdown": "late"}, {"calls": 1})
    assert not services.fail(first, "model_error", "late", attempt=first.attempts)
    assert not services.reschedule(first, 0, "model_rate_limited", attempt=first.attempts)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker, job.result) == (JobStatus.RUNNING, 2, "live-worker", None)
    assert not JobEvent.objects.filter(job=job, kind__in=["done", "failed"]).exists()

    assert services.succeed(second, {"markdown": "on time"}, {"calls": 1})  # the live attempt ends the job
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"markdown": "on time"})


def test_the_beat_drops_reconcile_runs_no_worker_took_in_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-jobs"]
    assert 0 < entry["options"]["expires"] <= 10 * entry["schedule"]
