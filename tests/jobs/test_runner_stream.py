"""What a running job writes on its event stream: the claim as a ``status`` event, progress that
never goes backwards (across a retry too), the usage of a cancelled job, and one log line per
finished job. The runner runs in this process on the fake model, on a committed database (its
writes give their connection back, as in a worker)."""

from __future__ import annotations

import itertools
import logging
import threading
import uuid

import pytest
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs import runner, services
from suite_ai.jobs.models import Job, JobEvent, ModelCall
from suite_ai.jobs.runner import RUNNING, DatabaseJobContext
from tests.e2e.test_worker_e2e import long_report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model(fake_model, settings):
    settings.MISTRAL_API_KEY = fake_model.api_key
    settings.MISTRAL_SERVER_URL = fake_model.url
    return fake_model


@pytest.fixture
def long_jobs(settings):
    """Long documents split into several map calls, made one after the other."""
    settings.SUITE_AI_CHUNK_TOKENS = 1500
    settings.SUITE_AI_MAP_CONCURRENCY = 1


@pytest.fixture
def owner(transactional_db) -> User:
    return User.objects.create(sub="owner")


def make_job(owner: User, markdown: str, action: str = "summarize") -> Job:
    return Job.objects.create(
        owner=owner,
        document_id=uuid.uuid4(),
        action=action,
        input={"markdown": markdown},
        input_hash="h",
        enqueued_at=timezone.now(),
    )


def stream_of(job: Job) -> list[tuple[str, dict]]:
    return list(JobEvent.objects.filter(job=job).order_by("id").values_list("kind", "data"))


def test_the_claim_is_a_status_event_before_anything_else(owner, model):
    job = make_job(owner, "Une phrase à reformuler.", "rephrase")
    assert runner.run(str(job.id), "worker-1") == "succeeded"
    events = stream_of(job)
    assert events[0] == ("status", {"status": "running", "attempt": 1})
    assert [kind for kind, _ in events].count("status") == 1
    assert events[-1][0] == "done"


def test_progress_never_goes_backwards_across_a_retry(owner, model, long_jobs):
    job = make_job(owner, long_report(12))
    model.fail_after(3, status=503)  # three map calls answer, then the model is down
    assert runner.run(str(job.id), "worker-1") == "rescheduled"
    first = [data for kind, data in stream_of(job) if kind == "progress"]
    assert first and first[-1]["done"] == 3

    model.reset()
    Job.objects.filter(id=job.id).update(available_at=None)  # due now, not after the backoff
    assert runner.run(str(job.id), "worker-2") == "succeeded"
    events = stream_of(job)
    assert [data["status"] for kind, data in events if kind == "status"] == ["running", "queued", "running"]
    progress = [(data["done"], data["total"]) for kind, data in events if kind == "progress"]
    retried = progress[len(first) :]
    assert retried, "the second attempt reported its progress"
    # The second attempt counts its checkpointed calls again from 0; the stream never shows it.
    for (done_before, total_before), (done, total) in itertools.pairwise(progress):
        assert done >= done_before and total >= total_before
        assert done * total_before >= done_before * total  # nor a smaller fraction
    assert retried[0][0] > first[-1]["done"]
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == progress[-1][1]


def test_concurrent_progress_reports_reach_the_stream_in_order(owner):
    job = make_job(owner, "x")
    context = DatabaseJobContext(services.claim(job.id, "worker-1"))
    barrier = threading.Barrier(8)

    def report(done: int) -> None:
        barrier.wait()
        context.set_progress(done, 8)

    threads = [threading.Thread(target=report, args=(done,)) for done in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reported = [data["done"] for kind, data in stream_of(job) if kind == "progress"]
    assert reported == sorted(reported) and reported[-1] == 8


def test_a_cancelled_job_reports_the_usage_of_the_calls_it_made(owner, model, long_jobs, monkeypatch):
    job = make_job(owner, long_report(12))
    record_call = DatabaseJobContext.record_call

    def record_then_cancel(self: DatabaseJobContext, call) -> None:
        record_call(self, call)
        if len(self._calls) == 2:  # the owner cancels after two map calls
            RUNNING._cancelled.add(self.job_id)

    monkeypatch.setattr(DatabaseJobContext, "record_call", record_then_cancel)
    assert runner.run(str(job.id), "worker-1") == "cancelled"

    job.refresh_from_db()
    calls = list(ModelCall.objects.filter(job=job))
    assert job.status == "cancelled" and len(calls) == 2
    assert job.usage["calls"] == 2 and job.usage["interrupted_calls"] == 0
    assert job.usage["prompt_tokens"] == sum(call.prompt_tokens for call in calls) > 0
    assert job.usage["completion_tokens"] == sum(call.completion_tokens for call in calls) > 0
    assert job.usage["model"] == calls[-1].model
    final = stream_of(job)[-1]
    assert final == ("cancelled", {"status": "cancelled", "usage": job.usage})


def test_a_cancellation_that_cuts_a_streamed_answer_counts_that_call(owner, model, monkeypatch):
    job = make_job(owner, "Une phrase à reformuler, assez longue pour plusieurs morceaux.", "rephrase")
    flush = DatabaseJobContext.flush

    def flush_then_cancel(self: DatabaseJobContext) -> None:
        flush(self)  # the first delta is written…
        RUNNING._cancelled.add(self.job_id)  # …and the owner cancels while the answer streams

    monkeypatch.setattr(DatabaseJobContext, "flush", flush_then_cancel)
    assert runner.run(str(job.id), "worker-1") == "cancelled"
    job.refresh_from_db()
    assert (job.usage["calls"], job.usage["interrupted_calls"]) == (0, 1)
    assert stream_of(job)[-1] == ("cancelled", {"status": "cancelled", "usage": job.usage})


def test_one_log_line_per_finished_job_with_ids_timings_and_tokens_never_text(owner, model, caplog):
    caplog.set_level(logging.INFO, logger="suite_ai.jobs.services")
    text = "Le budget confidentiel de la commission."
    ran = make_job(owner, text, "rephrase")
    assert runner.run(str(ran.id), "worker-1") == "succeeded"
    queued = make_job(owner, "Un autre texte secret.")
    services.request_cancel(queued)
    model.fail_next(kind="context_length")  # a failure that is not retried
    failed = make_job(owner, "Un troisième texte.", "correct")
    assert runner.run(str(failed.id), "worker-1") == "failed"

    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("job finished")]
    assert len(lines) == 3
    ran.refresh_from_db()
    failed.refresh_from_db()
    succeeded_line, cancelled_line, failed_line = lines
    assert f"id={ran.id} action=rephrase status=succeeded " in succeeded_line
    assert f"prompt_tokens={ran.usage['prompt_tokens']} completion_tokens={ran.usage['completion_tokens']}" in (
        succeeded_line
    )
    assert "duration_ms=" in succeeded_line
    assert f"id={queued.id} action=summarize status=cancelled " in cancelled_line
    assert f"id={failed.id} action=correct status=failed code={failed.error_code} " in failed_line
    for secret in (text, "secret", ran.result["markdown"]):
        assert secret not in caplog.text
