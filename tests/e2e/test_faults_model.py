"""Faults of the model: down for a while (every call 503, as Mistral's gateway answers while it is
unavailable), down for longer than the retry budget, and a streamed answer cut mid-way. Real
worker processes, the fake model on loopback (tests/fakes/mistral_server.py: ``fail_after(0,
503)`` answers 503 to every call until ``reset``).

The outage lasts ``SUITE_AI_FAULT_MODEL_OUTAGE`` seconds (default 12, so the suite stays quick)
with a retry budget of ``SUITE_AI_FAULT_MODEL_BUDGET`` (default four times the outage);
bench/fault_bench.py runs the issue's scenario: 120 s, with the service's default budget.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from suite_ai.jobs.models import Job, JobEvent
from tests.support.fault_report import tally
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUTAGE = float(os.environ.get("SUITE_AI_FAULT_MODEL_OUTAGE", "12"))
BUDGET = float(os.environ.get("SUITE_AI_FAULT_MODEL_BUDGET", str(OUTAGE * 4)))
JOBS = 12


def submit_many(caller, label: str, count: int) -> list[tuple[int, dict[str, object]]]:
    answers = []
    for i in range(count):
        response = caller.submit("rephrase", uuid.uuid4(), input={"markdown": f"{label}, texte numéro {i}."})
        answers.append((response.status_code, response.json()))
    return answers


def test_a_model_down_for_a_while_fails_no_job(alice, worker_factory, fake_model):
    # Two attempts would have failed every job before: the budget, not the attempts, decides.
    worker_factory(SUITE_AI_MAX_ATTEMPTS="2", SUITE_AI_MODEL_RETRY_BUDGET=f"{BUDGET:g}")
    fake_model.fail_after(0, status=503)
    started = time.monotonic()
    answers = submit_many(alice, "Pendant la panne du modèle", JOBS)
    ids = [str(body["id"]) for _, body in answers]
    wait_for(lambda: Job.objects.filter(id__in=ids, attempts__gte=2).count() == JOBS, timeout=OUTAGE + 60)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
    fake_model.reset(latency=0.05)  # the model is back
    for job_id in ids:
        wait_finished(job_id, timeout=BUDGET + 30)

    report = tally(f"model down {OUTAGE:g} s (retry budget {BUDGET:g} s)", answers, len(ids))
    report.publish()
    assert report.succeeded == JOBS and (report.lost, report.duplicated) == (0, 0)
    jobs = Job.objects.filter(id__in=ids)
    assert max(job.attempts for job in jobs) > 2
    # Each job was told when it would be tried again, and why.
    reasons = JobEvent.objects.filter(job_id__in=ids, kind="status", data__status="queued").values_list(
        "data__reason", flat=True
    )
    assert set(reasons) == {"model_unavailable"}


def test_a_model_down_for_longer_than_the_budget_fails_jobs_clearly(alice, worker_factory, fake_model):
    worker_factory(SUITE_AI_MODEL_RETRY_BUDGET="4")
    fake_model.fail_after(0, status=503)
    answers = submit_many(alice, "Panne longue", 6)
    ids = [str(body["id"]) for _, body in answers]
    jobs = [wait_finished(job_id, timeout=40) for job_id in ids]

    report = tally("model down longer than the budget (4 s)", answers, len(ids))
    report.publish()
    assert report.failed == {"model_unavailable": 6} and (report.lost, report.duplicated) == (0, 0)
    for job in jobs:
        assert job.attempts >= 2 and "texte" not in job.error_message


def test_a_stream_cut_mid_answer_is_retried_and_the_stream_says_to_drop_the_partial_text(alice, worker, fake_model):
    fake_model.set_latency(0.05, chunk_delay=0.1, chunks=8)
    fake_model.fail_next(kind="cut")
    text = "La commission a adopté le budget. Le conseil a validé le calendrier des travaux."
    job = wait_finished(alice.submit("rephrase", input={"markdown": text}).json()["id"])

    assert job.status == "succeeded" and job.attempts == 2
    events = list(JobEvent.objects.filter(job=job).order_by("id").values_list("kind", "data"))
    kinds = [kind for kind, _ in events]
    assert kinds.count("discard") == 1
    cut = kinds.index("discard")
    assert "delta" in kinds[:cut]  # the first attempt had streamed part of its answer…
    assert events[cut][1] == {"reason": "model_unavailable", "attempt": 1}
    # …then the job went back to the queue, and the second attempt streamed the whole answer.
    assert events[cut + 1][1]["status"] == "queued"
    replayed = "".join(data["text"] for kind, data in events[cut:] if kind == "delta")
    assert replayed == job.result["markdown"] == fake_model.expected_reply(text)


def test_a_retry_without_streamed_text_sends_no_discard(alice, worker, fake_model):
    fake_model.fail_next(status=503)
    job = wait_finished(alice.submit("correct", input={"markdown": "Il ont mangé."}).json()["id"])
    assert job.status == "succeeded" and job.attempts == 2
    assert not JobEvent.objects.filter(job=job, kind="discard").exists()
