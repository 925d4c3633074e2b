"""End to end through real worker processes (threads pool, no eager mode), on whichever broker and
database the run is configured with: the embedded defaults or Postgres + Redis."""

from __future__ import annotations

import uuid

import httpx
import pytest
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs.models import Job, JobEvent, ModelCall
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_action_runs_on_a_real_worker_and_streams_into_events(alice, worker, fake_model):
    text = "La commission s'est réunie le 3 mars. Elle a adopté le budget à l'unanimité."
    response = alice.submit("rephrase", input={"markdown": text})
    assert response.status_code == 202
    job = wait_finished(response.json()["id"])

    assert job.status == "succeeded", job.error
    assert job.result["markdown"] == fake_model.expected_reply(text)
    assert job.attempts == 1
    assert job.usage["model"] and job.usage["prompt_tokens"] > 0 and job.usage["completion_tokens"] > 0
    assert job.prompt_version.startswith("rephrase@")
    kinds = list(JobEvent.objects.filter(job=job).order_by("id").values_list("kind", flat=True))
    assert kinds[-1] == "done" and kinds.count("done") == 1 and "delta" in kinds
    streamed = "".join(e.data["text"] for e in JobEvent.objects.filter(job=job, kind="delta").order_by("id"))
    assert streamed == job.result["markdown"]
    call = ModelCall.objects.get(job=job)
    assert call.prompt_tokens == job.usage["prompt_tokens"]
    # The document text reached the model as delimited data, under the action's instructions.
    sent = fake_model.requests[-1]["body"]
    assert sent["stream"] is True
    assert text in sent["messages"][-1]["content"]

    api_view = alice.client.get(f"/api/v1.0/jobs/{job.id}/").json()
    assert api_view["status"] == "succeeded"
    assert api_view["result"]["markdown"] == job.result["markdown"]
    assert api_view["progress"] == {"done": 1, "total": 1}
    assert api_view["abilities"] == {"retrieve": True, "cancel": False}


def test_sse_streams_progress_and_resumes_after_last_event_id(alice, worker, web, fake_model):
    fake_model.set_latency(0.3)
    job_id = alice.submit("summarize", input={"markdown": "Premier point. Second point. Troisième point."}).json()["id"]
    headers = {"Authorization": f"Bearer {alice.token}"}
    events: list[tuple[str, str]] = []
    with httpx.stream("GET", f"{web}/api/v1.0/jobs/{job_id}/events/", headers=headers, timeout=30) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event_id = kind = ""
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line == "" and kind:
                events.append((event_id, kind))
                kind = ""
    assert events[-1][1] == "done"
    assert "delta" in [k for _, k in events]
    # Reconnecting with Last-Event-ID replays only what came after it.
    resume_from = events[1][0]
    replay = httpx.get(
        f"{web}/api/v1.0/jobs/{job_id}/events/", headers={**headers, "Last-Event-ID": resume_from}, timeout=30
    ).text
    replayed_ids = [line[4:] for line in replay.splitlines() if line.startswith("id: ")]
    assert replayed_ids == [event_id for event_id, _ in events[2:]]


def test_sse_refuses_other_users_and_anonymous_callers(alice, bob, web, worker, fake_model):
    job_id = alice.submit("summarize", input={"markdown": "Texte."}).json()["id"]
    url = f"{web}/api/v1.0/jobs/{job_id}/events/"
    assert httpx.get(url, timeout=10).json()["code"] == "not_authenticated"
    response = httpx.get(url, headers={"Authorization": f"Bearer {bob.token}"}, timeout=10)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_api_through_the_web_server_accepts_reads_and_refuses(alice, web, worker, fake_model, settings):
    headers = {"Authorization": f"Bearer {alice.token}", "Idempotency-Key": "through-the-server"}
    url = f"{web}/api/v1.0/documents/{uuid.uuid4()}/actions/"
    payload = {"action": "correct", "input": {"markdown": "Il ont mangé."}}
    submitted = httpx.post(url, json=payload, headers=headers, timeout=10)
    assert submitted.status_code == 202 and submitted.headers["content-type"] == "application/json"
    again = httpx.post(url, json=payload, headers=headers, timeout=10)
    assert (again.status_code, again.json()["id"]) == (202, submitted.json()["id"])
    assert again.headers["Idempotent-Replayed"] == "true"
    wait_finished(submitted.json()["id"])
    job = httpx.get(f"{web}/api/v1.0/jobs/{submitted.json()['id']}/", headers=headers, timeout=10).json()
    assert job["status"] == "succeeded" and job["result"]["markdown"]
    listed = httpx.get(f"{web}/api/v1.0/jobs/", params={"status": "succeeded"}, headers=headers, timeout=10).json()
    assert [j["id"] for j in listed["results"]] == [job["id"]]

    malformed = httpx.post(url, content=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_json")

    # Chunked, with no Content-Length: the server reads no further than the limit and answers 413.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def oversized():
        yield b'{"action": "correct", "input": {"markdown": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    too_big = httpx.post(url, content=oversized(), headers={**headers, "Content-Type": "application/json"}, timeout=30)
    assert (too_big.status_code, too_big.json()["code"]) == (413, "input_too_large")
    assert Job.objects.filter(owner__sub=alice.username).count() == 1  # nothing created by a refused request
    assert "garbage collector settled" in worker.log()  # start-up objects frozen once the worker was ready


def test_rate_limited_model_reschedules_with_retry_after_then_succeeds(alice, worker, fake_model):
    fake_model.fail_next(status=429, retry_after=1)
    job = wait_finished(alice.submit("correct", input={"markdown": "Il ont mangé."}).json()["id"])
    assert job.status == "succeeded"
    assert job.attempts == 2
    statuses = [e.data for e in JobEvent.objects.filter(job=job, kind="status").order_by("id")]
    assert {"status": "queued", "retry_in": 1.0, "reason": "model_rate_limited"} in statuses
    first, second = fake_model.requests[-2:]
    assert second["at"] - first["at"] >= 0.9  # the job waited as the gateway asked


def test_model_errors_are_retried_a_bounded_number_of_times_then_fail_clearly(alice, worker_factory, fake_model):
    # A model outage is retried for SUITE_AI_MODEL_RETRY_BUDGET seconds (tests/e2e/test_faults_model.py).
    worker_factory(SUITE_AI_MODEL_RETRY_BUDGET="3")
    fake_model.fail_next(status=503, times=50)
    job = wait_finished(alice.submit("correct", input={"markdown": "Texte."}).json()["id"], timeout=60)
    assert (job.status, job.error_code) == ("failed", "model_unavailable")
    assert job.attempts >= 2
    assert job.error_message and "Texte" not in job.error_message
    failed = JobEvent.objects.get(job=job, kind="failed")
    assert failed.data["error"]["code"] == "model_unavailable"


def test_cancel_stops_a_running_job_at_its_next_checkpoint(alice, worker, fake_model):
    fake_model.set_latency(0.2, chunk_delay=0.3, chunks=40)
    job_id = alice.submit("expand", input={"markdown": "Un texte à développer longuement."}).json()["id"]
    wait_for(lambda: JobEvent.objects.filter(job_id=job_id, kind="delta").exists(), timeout=20)
    response = alice.client.post(f"/api/v1.0/jobs/{job_id}/cancel/")
    assert response.status_code == 200
    job = wait_finished(job_id, timeout=20)
    assert job.status == "cancelled"
    assert JobEvent.objects.filter(job=job, kind="cancelled").count() == 1
    assert not JobEvent.objects.filter(job=job, kind="done").exists()
    again = alice.client.post(f"/api/v1.0/jobs/{job_id}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "job_finished")


def test_a_worker_killed_mid_job_is_replaced_and_the_job_ends_exactly_once(alice, worker_factory, fake_model, beat):
    fake_model.set_latency(4.0)
    first = worker_factory()
    job_id = alice.submit("rephrase", input={"markdown": "Texte à reformuler."}).json()["id"]
    wait_for(lambda: Job.objects.get(id=job_id).status == "running", timeout=20)
    wait_for(lambda: fake_model.in_flight >= 1, timeout=10)
    first.kill()
    fake_model.set_latency(0.1)
    worker_factory()
    job = wait_finished(job_id, timeout=60)
    assert job.status == "succeeded"
    assert job.attempts == 2
    assert JobEvent.objects.filter(job=job, kind="done").count() == 1
    statuses = [e.data.get("reason") for e in JobEvent.objects.filter(job=job, kind="status")]
    assert "worker_lost" in statuses
    assert ModelCall.objects.filter(job=job).count() == 1  # only the completed call is billed to the job


def test_a_message_lost_by_the_broker_is_redelivered_by_the_reconciler(alice, worker, fake_model, beat):
    # A job row whose message never reached the broker (a crash between commit and publish).
    job = Job.objects.create(
        owner=User.objects.get(sub=alice.username),
        document_id=uuid.uuid4(),
        action="correct",
        input={"markdown": "Texte."},
        input_hash="lost",
        enqueued_at=timezone.now(),
    )
    job = wait_finished(str(job.id), timeout=30)
    assert job.status == "succeeded"
    assert job.attempts == 1


def long_report(pages: int) -> str:
    sentence = "Le service a instruit les dossiers de subvention dans les délais prévus par le règlement. "
    return "\n\n".join(f"## Section{page:03d}\n\nSection{page:03d} : " + sentence * 25 for page in range(1, pages + 1))


def test_a_long_job_killed_mid_map_resumes_without_recalling_finished_chunks(alice, worker_factory, fake_model, beat):
    from suite_ai.jobs.models import JobCheckpoint

    env = {"SUITE_AI_CHUNK_TOKENS": "1500", "SUITE_AI_MAP_CONCURRENCY": "1"}
    fake_model.set_latency(0.4)
    first = worker_factory(**env)
    job_id = alice.submit("summarize", input={"markdown": long_report(40)}).json()["id"]
    wait_for(lambda: JobCheckpoint.objects.filter(job_id=job_id).count() >= 3, timeout=60)
    first.kill()
    finished_before_kill = JobCheckpoint.objects.filter(job_id=job_id).count()
    requests_before_kill = len(fake_model.requests)
    fake_model.set_latency(0.05)
    worker_factory(**env)
    job = wait_finished(job_id, timeout=120)

    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    chunks = job.usage["chunks"]
    assert chunks > 5
    assert job.usage["reused_calls"] == finished_before_kill
    # The second attempt made only the calls that were missing…
    assert len(fake_model.requests) - requests_before_kill == job.usage["calls"]
    # …and the first lost at most the one call in flight when its worker died (map concurrency 1).
    assert finished_before_kill <= requests_before_kill <= finished_before_kill + 1
    progress = alice.client.get(f"/api/v1.0/jobs/{job_id}/").json()["progress"]
    assert progress["done"] == progress["total"] == finished_before_kill + job.usage["calls"]
    assert JobEvent.objects.filter(job_id=job_id, kind="progress").exists()


def test_usage_totals_per_day_and_document_for_the_caller_only(alice, bob, worker, fake_model):
    document = uuid.uuid4()
    ids = [alice.submit("rephrase", document, input={"markdown": f"Texte numéro {i}."}).json()["id"] for i in range(2)]
    bob_job = bob.submit("rephrase", input={"markdown": "Autre texte."}).json()["id"]
    jobs = [wait_finished(job_id) for job_id in [*ids, bob_job]]
    mine = alice.client.get("/api/v1.0/usage/?days=7").json()
    expected_prompt = sum(job.usage["prompt_tokens"] for job in jobs[:2])
    assert mine["total"]["calls"] == 2 and mine["total"]["prompt_tokens"] == expected_prompt
    assert mine["by_document"] == [{"document": str(document), **mine["total"]}]
    assert len(mine["by_day"]) == 1 and mine["by_day"][0]["calls"] == 2
    assert alice.client.get("/api/v1.0/usage/?days=0").json()["code"] == "invalid_filter"
