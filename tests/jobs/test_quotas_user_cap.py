"""The per-user cap's claim is atomic (issue 13): however many workers claim one user's jobs at
the same moment, at most SUITE_AI_MAX_RUNNING_PER_USER run; the others are deferred (queued, no
worker held), and each job that stops running re-sends as many as there are free places. On the
backend the run is configured with (SQLite by default, Postgres in CI)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from suite_ai.accounts.models import User
from suite_ai.jobs import services
from suite_ai.jobs.models import Job, JobEvent, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)


def queued_jobs(owner: User, count: int) -> list[str]:
    return [
        str(Job.objects.create(owner=owner, document_id=uuid.uuid4(), action="summarize", input_hash="-").id)
        for _ in range(count)
    ]


def claim_all_at_once(job_ids: list[str]) -> list[str]:
    """Each job claimed by its own thread (its own database connection), all released together."""
    barrier = threading.Barrier(len(job_ids), timeout=30)
    claimed: list[str] = []
    errors: list[BaseException] = []

    def claim(job_id: str) -> None:
        try:
            barrier.wait()
            if services.claim(job_id, f"worker-{job_id[:8]}") is not None:
                claimed.append(job_id)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return claimed


def test_concurrent_claims_never_start_more_than_the_cap(settings):
    settings.SUITE_AI_MAX_RUNNING_PER_USER = 2
    alice = User.objects.create(sub="alice")
    bob = User.objects.create(sub="bob")
    mine = queued_jobs(alice, 10)
    theirs = queued_jobs(bob, 1)

    claimed = claim_all_at_once(mine + theirs)

    assert Job.objects.filter(owner=alice, status=JobStatus.RUNNING).count() == 2
    assert set(claimed) - set(mine) == set(theirs)  # Bob's job is not held behind Alice's
    assert Job.objects.filter(owner=alice, status=JobStatus.QUEUED, deferred=True).count() == 8
    deferred = Job.objects.filter(owner=alice, deferred=True).first()
    assert JobEvent.objects.filter(job=deferred, kind="status", data__reason="max_running_per_user").exists()


def test_a_job_that_stops_running_resends_as_many_deferred_jobs_as_places_free(settings):
    settings.SUITE_AI_MAX_RUNNING_PER_USER = 2
    alice = User.objects.create(sub="alice")
    mine = queued_jobs(alice, 5)
    for job_id in mine:
        services.claim(job_id, "worker")
    running = list(Job.objects.filter(status=JobStatus.RUNNING).select_related("owner"))
    assert len(running) == 2

    assert services.resume_deferred(alice.pk) == []  # no free place yet
    services.succeed(running[0], {"markdown": "ok"}, {})
    resent = services.resume_deferred(alice.pk)
    assert resent == [mine[2]]  # the oldest deferred job first
    assert not Job.objects.get(id=mine[2]).deferred
    # Re-sent, it is claimed like any job; the other two stay deferred.
    assert services.claim(mine[2], "worker") is not None
    assert Job.objects.filter(deferred=True).count() == 2


def test_without_a_cap_the_claim_is_the_single_statement(settings, django_assert_num_queries):
    settings.SUITE_AI_MAX_RUNNING_PER_USER = 0
    alice = User.objects.create(sub="alice")
    mine = queued_jobs(alice, 3)
    with django_assert_num_queries(1):
        assert services.claim(mine[0], "worker") is not None
    assert all(services.claim(job_id, "worker") for job_id in mine[1:])
