"""Fault: a worker killed (SIGKILL, its whole process group) while it runs jobs under load; a
second worker and the beat's reconciler take them over. No job lost, none run to its end twice,
and a job whose cut attempt had streamed text tells its stream to drop it."""

from __future__ import annotations

import uuid

import pytest

from suite_ai.jobs.models import Job, JobEvent
from tests.support.fault_report import tally
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JOBS = 20


def test_a_worker_killed_under_load_loses_no_job(alice, worker_factory, fake_model, beat):
    fake_model.set_latency(0.5, chunk_delay=0.4, chunks=10)  # answers stream for about 4 s
    first = worker_factory()
    answers = []
    for i in range(JOBS):
        response = alice.submit("rephrase", uuid.uuid4(), input={"markdown": f"Texte à reformuler numéro {i}."})
        answers.append((response.status_code, response.json()))
    ids = [str(body["id"]) for _, body in answers]
    wait_for(lambda: JobEvent.objects.filter(job_id__in=ids, kind="delta").count() >= 5, timeout=30)
    first.kill()
    cut = set(
        Job.objects.filter(id__in=ids, status="running", events__kind="delta").values_list("id", flat=True).distinct()
    )
    fake_model.set_latency(0.05)
    worker_factory()
    for job_id in ids:
        wait_finished(job_id, timeout=60)

    report = tally("worker killed under load", answers, Job.objects.filter(owner__sub=alice.username).count())
    report.publish()
    assert report.succeeded == JOBS and (report.lost, report.duplicated, report.failed) == (0, 0, {})
    assert cut, "no job was cut mid-answer"
    for job_id in cut:
        events = list(JobEvent.objects.filter(job_id=job_id).order_by("id").values_list("kind", "data"))
        kinds = [kind for kind, _ in events]
        # At least one discard (a loaded machine may take a job back a second time), one end, and
        # after the last discard the whole answer.
        assert "discard" in kinds and kinds.count("done") == 1, kinds
        last_discard = len(kinds) - 1 - kinds[::-1].index("discard")
        streamed = "".join(data["text"] for kind, data in events[last_discard:] if kind == "delta")
        assert streamed == Job.objects.get(id=job_id).result["markdown"]
    retried = Job.objects.filter(id__in=ids, attempts__gte=2).count()
    assert retried >= len(cut)
