"""The job state machine: atomic claims, refused transitions, cancellation, reconciliation."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import IntegrityError, connection
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.celery import app as celery_app
from suite_ai.jobs import services
from suite_ai.jobs.models import Job, JobEvent, JobStatus, ModelCall
from suite_ai.jobs.tasks import run_job


def make_job(owner: User, **fields) -> Job:
    defaults = {"document_id": uuid.uuid4(), "action": "summarize", "input": {"markdown": "x"}, "input_hash": "h"}
    defaults.update(fields)
    return Job.objects.create(owner=owner, enqueued_at=timezone.now(), **defaults)


@pytest.fixture
def owner(db) -> User:
    return User.objects.create(sub="owner")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("succeeded", "running"),
        ("failed", "queued"),
        ("cancelled", "running"),
        ("queued", "succeeded"),
        ("succeeded", "failed"),
    ],
)
def test_invalid_transitions_are_refused(current, target):
    with pytest.raises(services.InvalidTransition):
        services.check_transition(current, target)


def test_a_finished_job_cannot_be_finished_again(owner):
    job = make_job(owner)
    claimed = services.claim(job.id, "w1")
    assert claimed is not None
    assert services.succeed(claimed, {"markdown": "ok"}, {})
    assert not services.fail(claimed, "late", "a late failure")
    assert not services.succeed(claimed, {"markdown": "twice"}, {})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"markdown": "ok"}
    assert JobEvent.objects.filter(job=job, kind="done").count() == 1


def test_a_claim_returns_the_whole_running_job_and_its_owner(owner, django_assert_num_queries):
    owner.email = "agent@example.gouv.fr"
    owner.save()
    job = make_job(owner, options={"language": "en"}, input={"markdown": "Texte à traduire."})
    with django_assert_num_queries(1):  # the claim is one statement
        claimed = services.claim(job.id, "worker-7")
    assert claimed is not None and claimed.id == job.id
    assert (claimed.status, claimed.worker, claimed.attempts) == (JobStatus.RUNNING, "worker-7", 1)
    assert claimed.options == {"language": "en"} and claimed.input == {"markdown": "Texte à traduire."}
    assert claimed.started_at is not None and claimed.started_at == claimed.heartbeat_at
    with django_assert_num_queries(0):
        assert (claimed.owner.sub, claimed.owner.email) == ("owner", "agent@example.gouv.fr")
    assert claimed.owner.is_active  # any other field of the owner loads on first use
    stored = Job.objects.get(id=job.id)
    assert (stored.status, stored.worker, stored.attempts, stored.started_at) == (
        JobStatus.RUNNING, "worker-7", 1, claimed.started_at,
    )  # fmt: skip


def test_events_are_stored_in_order_with_their_data_and_time(owner):
    job = make_job(owner)
    before = timezone.now()
    services.emit(job.id, JobEvent.Kind.DELTA, {"text": "Bonjour « à tous »"})
    services.emit(str(job.id), JobEvent.Kind.PROGRESS, {"done": 1, "total": 3})
    events = list(JobEvent.objects.filter(job=job).order_by("id"))
    assert [(e.kind, e.data) for e in events] == [
        ("delta", {"text": "Bonjour « à tous »"}),
        ("progress", {"done": 1, "total": 3}),
    ]
    assert all(before <= e.created_at <= timezone.now() for e in events)


@pytest.mark.parametrize(("progress", "expected"), [((0, 0), (1, 1)), ((2, 5), (5, 5))])
def test_success_stores_the_result_usage_and_full_progress(owner, progress, expected):
    job = make_job(owner, progress_done=progress[0], progress_total=progress[1], credentials="sealed")
    claimed = services.claim(job.id, "w1")
    assert claimed is not None
    usage = {"model": "mistral-small-latest", "prompt_tokens": 12, "completion_tokens": 7}
    before = timezone.now()
    assert services.succeed(claimed, {"markdown": "Fini « ici »"}, usage, prompt_version="rephrase@3")
    stored = Job.objects.get(id=job.id)
    assert (stored.status, stored.result, stored.usage) == (JobStatus.SUCCEEDED, {"markdown": "Fini « ici »"}, usage)
    assert (stored.prompt_version, stored.credentials) == ("rephrase@3", "")  # credentials never outlive a job
    assert (stored.progress_done, stored.progress_total) == expected
    assert stored.finished_at is not None and before <= stored.finished_at <= timezone.now()
    assert JobEvent.objects.get(job=job, kind="done").data == {"status": "succeeded", "result": stored.result}


def test_a_lost_idempotency_race_leaves_the_callers_transaction_usable(owner):
    # The test runs inside a transaction, as a caller's would be: the second INSERT of the same
    # owner and key fails in its savepoint, and the transaction goes on (Postgres would refuse
    # every later statement of an aborted one).
    fields = {"owner": owner, "document_id": uuid.uuid4(), "action": "summarize", "input_hash": "h"}
    first = services._insert_job(idempotency_key="same", **fields)
    assert first._state.adding is False and Job.objects.get(id=first.id).created_at == first.created_at
    with pytest.raises(IntegrityError):
        services._insert_job(idempotency_key="same", **fields)
    assert list(Job.objects.values_list("id", flat=True)) == [first.id]


def test_model_calls_are_inserted_with_their_defaults(owner):
    job = make_job(owner)
    before = timezone.now()
    calls = [
        ModelCall(job_id=job.id, owner_id=owner.id, document_id=job.document_id, model="m", prompt_tokens=n)
        for n in (3, 4, 5)
    ]
    services.insert_rows(calls[:1])  # one row: one statement
    services.insert_rows(calls[1:])  # several: executemany
    services.insert_rows([])
    stored = list(ModelCall.objects.filter(job=job).order_by("id"))
    assert [(c.prompt_tokens, c.stage, c.attempts, c.ttft_ms, c.document_id) for c in stored] == [
        (n, "single", 1, None, job.document_id) for n in (3, 4, 5)
    ]
    assert all(before <= c.created_at <= timezone.now() for c in stored)


@pytest.mark.django_db(transaction=True)
def test_a_job_is_claimed_by_exactly_one_of_many_concurrent_workers():
    owner = User.objects.create(sub="racer")
    jobs = [make_job(owner) for _ in range(10)]
    winners: dict[str, list[str]] = {str(job.id): [] for job in jobs}
    barrier = threading.Barrier(8)

    def worker(name: str) -> None:
        barrier.wait()
        try:
            for job in jobs:
                if services.claim(job.id, name) is not None:
                    winners[str(job.id)].append(name)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(names) == 1 for names in winners.values()), winners
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}


def test_a_job_is_not_claimed_before_it_is_available(owner):
    job = make_job(owner, available_at=timezone.now() + timedelta(seconds=60))
    assert services.claim(job.id, "w1") is None
    Job.objects.filter(id=job.id).update(available_at=timezone.now() - timedelta(seconds=1))
    assert services.claim(job.id, "w1") is not None


def test_cancel_a_queued_job_ends_it_and_no_worker_can_claim_it(owner):
    job = make_job(owner)
    services.request_cancel(job)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert services.claim(job.id, "w1") is None


def test_cancel_a_running_job_flags_it_for_its_next_checkpoint(owner):
    job = make_job(owner)
    running = services.claim(job.id, "w1")
    assert running is not None
    services.request_cancel(running)
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    assert services.heartbeat([running.id]) == {str(running.id)}


def test_cancel_a_finished_job_is_refused(owner):
    job = make_job(owner)
    claimed = services.claim(job.id, "w1")
    assert claimed is not None
    services.fail(claimed, "x", "y")
    with pytest.raises(services.JobAlreadyFinished):
        services.request_cancel(claimed)


def test_reschedule_puts_a_running_job_back_in_the_queue_for_later(owner, django_capture_on_commit_callbacks):
    job = make_job(owner)
    claimed = services.claim(job.id, "w1")
    assert claimed is not None
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.reschedule(claimed, 30, "model_rate_limited")
    # The re-enqueue, and the notification of the status event to its stream's followers, happen
    # only once the transaction commits.
    assert len(callbacks) == 2
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.available_at is not None and job.available_at > timezone.now() + timedelta(seconds=25)
    assert services.claim(job.id, "w2") is None


def test_reconcile_requeues_a_job_whose_worker_stopped_heartbeating(owner, django_capture_on_commit_callbacks):
    job = make_job(owner)
    services.claim(job.id, "w1")
    Job.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(seconds=120))
    with django_capture_on_commit_callbacks(execute=False):
        report = services.reconcile(heartbeat_timeout=60, queued_redelivery_after=300, max_attempts=3, job_timeout=3600)
    assert report.requeued == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert services.claim(job.id, "w2") is not None


def test_reconcile_fails_a_job_after_too_many_lost_workers(owner):
    job = make_job(owner)
    services.claim(job.id, "w1")
    Job.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(seconds=120), attempts=3)
    report = services.reconcile(heartbeat_timeout=60, queued_redelivery_after=300, max_attempts=3, job_timeout=3600)
    assert report.failed == 1
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "worker_lost")


def test_reconcile_redelivers_a_job_whose_message_was_lost(owner, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(services, "enqueue", lambda job_id, countdown=None: sent.append(str(job_id)))
    fresh = make_job(owner)
    lost = make_job(owner)
    Job.objects.filter(id=lost.id).update(enqueued_at=timezone.now() - timedelta(seconds=600))
    report = services.reconcile(heartbeat_timeout=60, queued_redelivery_after=300, max_attempts=3, job_timeout=3600)
    assert report.redelivered == 1
    assert sent == [str(lost.id)]
    assert str(fresh.id) not in sent


def test_reconcile_fails_a_job_running_past_the_time_limit(owner):
    job = make_job(owner)
    services.claim(job.id, "w1")
    Job.objects.filter(id=job.id).update(started_at=timezone.now() - timedelta(hours=2))
    report = services.reconcile(heartbeat_timeout=60, queued_redelivery_after=300, max_attempts=3, job_timeout=3600)
    assert report.timed_out == 1
    job.refresh_from_db()
    assert job.error_code == "job_timeout"


def test_purge_removes_finished_jobs_past_retention_only(owner):
    old = make_job(owner)
    services.claim(old.id, "w")
    services.fail(old, "x", "y")
    Job.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=40))
    recent_running = make_job(owner)
    assert services.purge(30) >= 1
    assert not Job.objects.filter(id=old.id).exists()
    assert Job.objects.filter(id=recent_running.id).exists()


@contextlib.contextmanager
def _sent_to_broker() -> Iterator[list[str]]:
    """The job ids published meanwhile (Celery's ``before_task_publish``, whichever the broker);
    the messages are then purged, since no worker runs here to take them."""
    sent: list[str] = []

    def published(sender: str | None = None, body: Any = None, **_: Any) -> None:
        if sender == run_job.name:
            sent.append(body[0][0])  # task protocol 2: (args, kwargs, embed)

    before_task_publish.connect(published, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(published)
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)


def _submission(owner: User) -> services.Submission:
    return services.Submission(
        owner=owner, document_id=uuid.uuid4(), action="summarize", options={}, input={"markdown": "x"}
    )


def test_a_job_submitted_during_a_request_is_sent_once_the_request_is_over(transactional_db):
    # Django's own receiver closes the request's connection first: on SQLite that close checkpoints
    # the log (the accepted job durable before the 202), with no woken worker waiting on it.
    owner = User.objects.create(sub="owner")
    with _sent_to_broker() as sent:
        request_started.send(sender=None)
        job, created = services.submit(_submission(owner))
        assert created and Job.objects.get(id=job.id).status == JobStatus.QUEUED  # committed…
        assert sent == []  # …not sent yet
        request_finished.send(sender=None)
        assert connection.connection is None  # the request's connection closed
        assert sent == [str(job.id)]


def test_a_job_submitted_outside_a_request_is_sent_at_once(transactional_db):
    owner = User.objects.create(sub="owner")
    with _sent_to_broker() as sent:
        job, _ = services.submit(_submission(owner))
        assert sent == [str(job.id)]
