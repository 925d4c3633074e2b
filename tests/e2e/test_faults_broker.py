"""Fault: the Redis broker restarted under load, with a real web server, worker and beat on it.

The Redis here is the test's own (tests/support/redis_server.py), killed and started again on
the same port, without persistence: the queued messages die with it, as in a crash. The job rows
are the truth: the reconciler sends again what the broker lost or never took.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from suite_ai.accounts.models import User
from suite_ai.jobs.models import Job
from tests.support.fault_report import tally
from tests.support.processes import ManagedProcess, service_env, start_web, start_worker
from tests.support.redis_server import RedisServer
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(own_redis: RedisServer, model_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, object]]:
    """Web, worker and beat, all on the test's Redis."""
    env = {**model_env, "CELERY_BROKER_URL": own_redis.url}
    processes: list[ManagedProcess] = []
    try:
        worker = start_worker(tmp_path, **env)
        processes.append(worker)
        command = [
            sys.executable, "-m", "celery", "-A", "suite_ai.celery", "beat",
            "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO",
        ]  # fmt: skip
        beat = ManagedProcess("beat", command, service_env(**env), tmp_path)
        processes.append(beat)
        beat.wait_for_log("beat: Starting")
        web, url = start_web(tmp_path, **env)
        processes.append(web)
        yield {"worker": worker, "url": url}
    finally:
        for process in processes:
            process.stop()


def submit(url: str, token: str, text: str) -> tuple[int, dict[str, object]]:
    response = httpx.post(
        f"{url}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "rephrase", "input": {"markdown": text}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.status_code, response.json()


def ready(url: str) -> tuple[int, dict[str, object]]:
    response = httpx.get(f"{url}/health/ready", timeout=10)
    return response.status_code, response.json()


def test_a_redis_restart_under_load_loses_no_job_and_the_worker_reconnects(alice, fake_model, own_redis, stack):
    url, worker = str(stack["url"]), stack["worker"]
    assert isinstance(worker, ManagedProcess)
    fake_model.set_latency(2.0)
    answers = [submit(url, alice.token, f"Avant la panne, texte {i}.") for i in range(24)]
    # Redis goes away while jobs run (their messages delivered, not acked) and others wait in it.
    assert fake_model.wait_for_in_flight(4, timeout=20), fake_model.stats()
    own_redis.stop()

    status, body = ready(url)
    assert status == 503 and str(body["checks"]["broker"]).startswith("error")  # type: ignore[index]
    during = [submit(url, alice.token, f"Pendant la panne, texte {i}.") for i in range(6)]
    # Accepted: the row is committed, the message could not be sent; the reconciler sends it.
    assert [status for status, _ in during] == [202] * len(during), during

    own_redis.start()
    wait_for(lambda: ready(url)[0] == 200, timeout=30)
    fake_model.set_latency(0.1)
    after = [submit(url, alice.token, f"Après la panne, texte {i}.") for i in range(10)]
    everything = answers + during + after
    for status, body in everything:
        assert status == 202
        wait_finished(str(body["id"]), timeout=60)

    report = tally("Redis restarted under load", everything, Job.objects.filter(owner__sub=alice.username).count())
    report.publish()
    assert report.succeeded == report.submitted == len(everything)
    assert (report.lost, report.duplicated, report.failed) == (0, 0, {})
    assert worker.process.poll() is None, "the worker stopped"
    assert "Unrecoverable error" not in worker.log()
    assert User.objects.filter(sub=alice.username).exists()
