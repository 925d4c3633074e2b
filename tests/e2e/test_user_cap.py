"""No user takes a whole worker (issue 13): SUITE_AI_MAX_RUNNING_PER_USER caps one user's running
jobs, the others wait queued without holding a worker thread, and other users' jobs run past them;
a job's parallel model calls run on the worker's own threads, so a worker never holds more threads
than it was configured with. Real worker processes, a real fake model, the database sampled."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from suite_ai.jobs.models import FINISHED_STATUSES, Job, JobEvent
from tests.support.processes import start_worker
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CAP = 2


class Sampler:
    """Reads, every few milliseconds until stopped, the largest value ``read`` returned."""

    def __init__(self, read) -> None:
        self.read = read
        self.highest = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from django.db import connection

        try:
            while not self._stop.is_set():
                self.highest = max(self.highest, self.read())
                self.samples += 1
                time.sleep(0.01)
        finally:
            connection.close()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_one_users_jobs_wait_queued_past_the_cap_while_another_users_job_runs(
    alice, bob, model_env, tmp_path: Path, fake_model
):
    worker = start_worker(tmp_path, concurrency=8, SUITE_AI_MAX_RUNNING_PER_USER=str(CAP), **model_env)
    try:
        with Sampler(lambda: Job.objects.filter(owner__sub="alice", status="running").count()) as running:
            slow = [
                alice.submit("rephrase", input={"markdown": f"Texte numéro {i}. [[latency:0.6]]"}).json()["id"]
                for i in range(3 * CAP)
            ]
            # Alice's first jobs hold her places; the rest are deferred, acknowledged, holding no thread.
            wait_for(lambda: Job.objects.filter(id__in=slow, deferred=True).count() >= CAP or None, timeout=60)
            fast = bob.submit("rephrase", input={"markdown": "Le texte de Bob."}).json()["id"]
            bobs = wait_finished(fast)
            alices_left = Job.objects.filter(id__in=slow).exclude(status__in=FINISHED_STATUSES).count()
            jobs = [wait_finished(job_id, timeout=120) for job_id in slow]
    finally:
        worker.stop()

    assert bobs.status == "succeeded", bobs.error
    assert alices_left > 0  # Bob's job was not held behind Alice's queue
    assert all(job.status == "succeeded" for job in jobs), [(job.status, job.error) for job in jobs]
    assert all(job.attempts == 1 for job in jobs)  # deferred, not claimed and given back
    assert running.samples > 10 and running.highest == CAP
    assert not Job.objects.filter(deferred=True).exists()
    # A deferred job's stream says why it waits.
    reasons = JobEvent.objects.filter(job_id__in=slow, kind="status").values_list("data", flat=True)
    assert any(data.get("reason") == "max_running_per_user" for data in reasons)


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def test_a_worker_never_holds_more_threads_than_configured_while_long_jobs_map_in_parallel(
    alice, model_env, tmp_path: Path, fake_model
):
    concurrency = 4
    worker = start_worker(
        tmp_path, concurrency=concurrency, SUITE_AI_CHUNK_TOKENS="256", SUITE_AI_MAP_CONCURRENCY="8", **model_env
    )
    try:
        pid = worker.process.pid
        # One job of one chunk first, so that the threads started on first use (the heartbeat's, one
        # of the pool's, the tokenizer's native one) are counted: the pool's others start on demand.
        first = "Un texte assez long pour être compté par le tokenizer, mais d'un seul morceau. " * 8
        assert wait_finished(alice.submit("summarize", input={"markdown": first}).json()["id"]).status == "succeeded"
        warm = _threads(pid)
        paragraph = "La commission a examiné le budget et adopté les mesures proposées par le rapporteur. " * 4
        text = "\n\n".join(f"{paragraph} Point {i}. [[latency:0.3]]" for i in range(40))
        with Sampler(lambda: _threads(pid)) as threads:
            ids = [alice.submit("summarize", input={"markdown": text}).json()["id"] for _ in range(2 * concurrency)]
            jobs = [wait_finished(job_id, timeout=180) for job_id in ids]
    finally:
        worker.stop()

    assert all(job.status == "succeeded" for job in jobs), [(job.status, job.error) for job in jobs]
    assert all(job.usage["chunks"] > 8 for job in jobs)  # each job mapped in parallel
    assert fake_model.stats()["max_in_flight"] > concurrency / 2  # the calls did run side by side
    assert threads.samples > 10
    assert threads.highest <= warm - 1 + concurrency, (warm, threads.highest)
