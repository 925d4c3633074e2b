"""Schema, health and metrics: what the people running the service rely on."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import MultiProcessCollector

from suite_ai.jobs import metrics
from suite_ai.jobs.models import WorkerHeartbeat
from tests.support.processes import ROOT, start_web, start_worker
from tests.support.waiting import wait_finished, wait_for

pytestmark = pytest.mark.django_db


def test_openapi_schema_documents_every_route(client):
    response = client.get("/api/v1.0/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for route in (
        "/api/v1.0/actions/",
        "/api/v1.0/documents/{document_id}/actions/",
        "/api/v1.0/jobs/",
        "/api/v1.0/jobs/{id}/",
        "/api/v1.0/jobs/{id}/cancel/",
    ):
        assert route in paths, route
    submit = paths["/api/v1.0/documents/{document_id}/actions/"]["post"]
    assert {"202", "400", "409", "413", "429"} <= set(submit["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in submit["parameters"])


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/v1.0/swagger/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    scripts = [asset for asset in assets if asset.endswith(".js")]
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in scripts), "the page loads Swagger UI"
    assert all(asset.startswith("/static/") for asset in assets), assets  # every asset from here, none from a CDN


def test_health_live_and_ready_without_a_worker(client):
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 503  # the web alone would accept jobs that nothing runs
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "worker": "none"}
    assert ready.json()["worker"] == {"state": "none", "age_seconds": None, "alive": 0}


def test_ready_with_a_recent_worker_beat(client):
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="celery@a:1", started_at=now, beat_at=now)
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "worker": "ok"}
    assert ready.json()["worker"]["alive"] == 1


def test_ready_reports_workers_that_stopped_beating_as_stale(client, settings):
    settings.SUITE_AI_WORKER_STALE_AFTER = 30
    beat = timezone.now() - dt.timedelta(seconds=95)
    WorkerHeartbeat.objects.create(name="celery@a:1", started_at=beat, beat_at=beat)
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["worker"] == "stale"
    assert ready.json()["worker"]["alive"] == 0
    assert ready.json()["worker"]["age_seconds"] >= 95


def test_ready_can_leave_the_worker_out_of_its_answer(client, settings):
    settings.SUITE_AI_READY_NEEDS_WORKER = False
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["worker"] == "none"  # still said, no longer a condition


def _ready_when(client, worker_state: str):
    """The /health/ready answer once it reports ``worker_state``."""

    def answer():
        response = client.get("/health/ready")
        return response if response.json()["checks"]["worker"] == worker_state else None

    return wait_for(answer)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_ready_follows_a_real_worker_process(client, settings, tmp_path):
    settings.SUITE_AI_WORKER_STALE_AFTER = 2.0
    assert client.get("/health/ready").json()["checks"]["worker"] == "none"

    # An idle worker beats too: no job is ever submitted here.
    worker = start_worker(tmp_path, SUITE_AI_HEARTBEAT_INTERVAL="0.3")
    try:
        assert _ready_when(client, "ok").status_code == 200
        first_beat = WorkerHeartbeat.objects.get().beat_at
        wait_for(lambda: WorkerHeartbeat.objects.get().beat_at > first_beat)  # and keeps beating
    finally:
        worker.stop()  # a clean shutdown removes its row at once
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["worker"] == "none"

    worker = start_worker(tmp_path, SUITE_AI_HEARTBEAT_INTERVAL="0.3")
    try:
        _ready_when(client, "ok")
        worker.kill()  # a killed worker leaves its row, which goes stale
        stale = _ready_when(client, "stale")
    finally:
        worker.stop()
    assert stale.status_code == 503
    assert stale.json()["worker"]["age_seconds"] >= settings.SUITE_AI_WORKER_STALE_AFTER


def test_ready_reports_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


def test_metrics_expose_jobs_by_status_and_histograms(client, alice, model_settings):
    alice.submit("summarize", input={"markdown": "Un texte."})
    body = client.get("/metrics").content.decode()
    assert 'suite_ai_jobs{action="summarize",status="queued"} 1.0' in body
    assert "# TYPE suite_ai_job_queue_wait_seconds histogram" in body
    assert "# TYPE suite_ai_job_run_seconds histogram" in body
    assert "# TYPE suite_ai_model_tokens_total counter" in body
    assert 'suite_ai_jobs_submitted_total{action="summarize"}' in body


def test_catalogue_lists_actions_with_labels_options_and_model_needs(alice):
    catalogue = {a["name"]: a for a in alice.client.get("/api/v1.0/actions/").json()}
    assert {"summarize", "rephrase", "correct", "simplify", "translate", "custom", "note"} <= set(catalogue)
    assert catalogue["translate"]["label"] == {"fr": "Traduire", "en": "Translate"}
    language = catalogue["translate"]["options"][0]
    assert language["name"] == "language" and language["required"] and "en" in language["choices"]
    assert catalogue["summarize"]["offline_engine"] is True
    assert catalogue["rephrase"]["needs_model"] is True and catalogue["rephrase"]["offline_engine"] is False
    assert catalogue["note"]["result"] == "note"


# --- Metrics never fail a request, and processes on several hosts never share a file ---------------


def test_metrics_create_a_missing_multiprocess_directory(client, monkeypatch, tmp_path):
    directory = tmp_path / "missing" / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert directory.is_dir()
    assert "# TYPE suite_ai_jobs gauge" in response.content.decode()


def test_a_metric_whose_file_cannot_be_opened_counts_in_memory_and_logs_once(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "not-there"))  # never created
    monkeypatch.setattr(metrics, "_reported", set())
    value_class = metrics.guarded_value_class(prometheus_values.MultiProcessValue(metrics.process_identifier))
    monkeypatch.setattr(prometheus_values, "ValueClass", value_class)
    registry = CollectorRegistry()
    counter = Counter("suite_ai_test_guarded", "test", ["action"], registry=registry)
    with caplog.at_level(logging.WARNING, logger="suite_ai.jobs.metrics"):
        for action in ("summarize", "translate", "summarize"):
            counter.labels(action=action).inc()
    assert registry.get_sample_value("suite_ai_test_guarded_total", {"action": "summarize"}) == 2
    assert [r.message for r in caplog.records if r.name == "suite_ai.jobs.metrics"] == [
        f"metrics: cannot open a file in PROMETHEUS_MULTIPROC_DIR={tmp_path / 'not-there'}; "
        "this process counts in memory only"
    ]


SAME_PID_ON_A_HOST = """
import os, socket, sys
os.getpid = lambda: 1                      # as the first process of every container
socket.gethostname = lambda: sys.argv[1]   # a container's host name: its id
from suite_ai.jobs import metrics
child = metrics.JOBS_SUBMITTED.labels(action="summarize")  # opens this process's file
print("open", flush=True)
sys.stdin.readline()                       # both processes hold their files open
child.inc()
print("counted", flush=True)
"""


def test_processes_with_one_pid_on_two_hosts_write_two_files(tmp_path):
    directory = tmp_path / "metrics"  # one volume, mounted in both containers
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SAME_PID_ON_A_HOST, host],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for host in ("0f3c2a1b9d8e", "7a6b5c4d3e2f")
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "open"
    for process in processes:
        out, _ = process.communicate("go\n", timeout=60)
        assert out.strip() == "counted" and process.returncode == 0

    files = sorted(path.name for path in directory.iterdir())
    assert files == ["counter_0f3c2a1b9d8e-1.db", "counter_7a6b5c4d3e2f-1.db"]
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    assert 'suite_ai_jobs_submitted_total{action="summarize"} 2.0' in generate_latest(registry).decode()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_submission_and_metrics_with_the_multiprocess_directory_missing(alice, tmp_path: Path):
    """What compose does: PROMETHEUS_MULTIPROC_DIR points at a directory nothing has created."""
    directory = tmp_path / "volume" / "metrics"
    worker = start_worker(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(directory))
    web, url = start_web(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(directory))
    try:
        headers = {"Authorization": f"Bearer {alice.token}"}
        response = httpx.post(
            f"{url}/api/v1.0/documents/1b0b5a9e-3f3c-4a57-9f44-5b1f2a0a7e11/actions/",
            json={"action": "summarize", "input": {"markdown": "La séance est ouverte. Le budget est adopté."}},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 202, response.text
        job = wait_finished(response.json()["id"])
        assert job.status == "succeeded", job.error

        scrape = httpx.get(f"{url}/metrics", timeout=30)
        assert scrape.status_code == 200
        body = scrape.text
        assert 'suite_ai_jobs_submitted_total{action="summarize"} 1.0' in body  # counted by the web
        assert 'suite_ai_jobs_finished_total{action="summarize",status="succeeded"} 1.0' in body  # by the worker
        assert directory.is_dir()
    finally:
        web.stop()
        worker.stop()
