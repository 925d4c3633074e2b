"""A failed job's error, and the event stream's own refusals, in the language the reader asks for;
the admin's CSRF failure as a JSON error like the others."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from rest_framework.test import APIClient

from suite_ai.accounts.models import User
from suite_ai.jobs import failures, services, streams, tickets
from suite_ai.jobs.api import events as events_api
from suite_ai.jobs.models import Job
from tests.support.error_codes import codes_in_source, documented_codes

FRENCH = "fr-FR,fr;q=0.9,en;q=0.5"
FRENCH_MESSAGE = "Docs est injoignable. Réessayez plus tard."
WORKER_MESSAGE = "Docs answered 503 on /api/v1.0/documents/…/content/."  # what the worker wrote
# The modules whose failures a worker can write on a job (the API's own refusals never reach one).
WORKER_SIDE = ("suite_ai/llm/", "suite_ai/lasuite_docs/", "suite_ai/blocknote/", "suite_ai/pipeline/")
WORKER_FILES = ("suite_ai/jobs/runner.py", "suite_ai/jobs/services.py", "suite_ai/jobs/tasks.py")


def failed_job(owner: str = "alice", code: str = "docs_unavailable", message: str = WORKER_MESSAGE) -> Job:
    user, _ = User.objects.get_or_create(sub=owner)
    job = Job.objects.create(owner=user, document_id=uuid.uuid4(), action="summarize", input_hash="x", status="running")
    assert services.fail(job, code, message)
    return job


def test_every_code_a_worker_can_write_has_a_message_for_people():
    found = codes_in_source()
    worker_codes = {
        code
        for code, where in found.codes.items()
        if any(path.startswith(WORKER_SIDE) or path in WORKER_FILES for path in where)
    }
    assert {"docs_unavailable", "model_timeout", "worker_lost", "invalid_yjs_update"} <= worker_codes  # the scan works
    assert sorted(worker_codes - set(failures.MESSAGES)) == []
    assert sorted(set(failures.MESSAGES) - set(documented_codes())) == []


@pytest.mark.django_db
def test_a_failed_job_reads_in_french_with_the_workers_specifics_as_detail(alice):
    job = failed_job()
    alice.client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}", HTTP_ACCEPT_LANGUAGE=FRENCH)

    one = alice.client.get(f"/api/v1.0/jobs/{job.id}/")
    listed = alice.client.get("/api/v1.0/jobs/")

    expected = {"code": "docs_unavailable", "message": FRENCH_MESSAGE, "detail": WORKER_MESSAGE}
    assert one.json()["error"] == expected
    assert one["Content-Language"] == "fr"
    assert [row["error"] for row in listed.json()["results"]] == [expected]


@pytest.mark.django_db
@pytest.mark.parametrize("accept_language", ["en-GB,en;q=0.8", None, "de-DE"])
def test_a_failed_job_reads_in_english_as_the_worker_wrote_it(alice, accept_language):
    job = failed_job()
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    alice.client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}", **headers)
    assert alice.client.get(f"/api/v1.0/jobs/{job.id}/").json()["error"] == {
        "code": "docs_unavailable",
        "message": WORKER_MESSAGE,
    }


@pytest.mark.django_db
def test_a_code_without_a_catalogue_entry_keeps_the_workers_message():
    with_language = failures.describe("some_future_code", "What happened.")
    assert with_language == {"code": "some_future_code", "message": "What happened."}


def sse_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for frame in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


@pytest.mark.django_db
def test_the_failed_event_is_in_the_language_of_the_stream(alice):
    # Django's view (test client, WSGI servers); the ASGI endpoint is below.
    job = failed_job()
    ticket = tickets.issue(job.id, job.owner_id)
    path = f"/api/v1.0/jobs/{job.id}/events/?ticket={ticket}"

    french = sse_events(APIClient().get(path, HTTP_ACCEPT_LANGUAGE=FRENCH).content)
    english = sse_events(APIClient().get(path).content)

    french_error = {"code": "docs_unavailable", "message": FRENCH_MESSAGE, "detail": WORKER_MESSAGE}
    assert french[-1] == ("failed", {"status": "failed", "error": french_error})
    english_error = {"code": "docs_unavailable", "message": WORKER_MESSAGE}
    assert english[-1] == ("failed", {"status": "failed", "error": english_error})


class Response:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = b""


async def call_stream(path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> Response:
    """The ASGI endpoint, called as uvicorn calls it."""
    response = Response()
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.status, response.headers = message["status"], dict(message["headers"])
        else:
            response.body += message.get("body", b"")
            if not message.get("more_body"):
                disconnected.set()

    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": headers}
    await asyncio.wait_for(events_api.stream(scope, receive, send), timeout=30)
    return response


@pytest.mark.django_db(transaction=True)  # the hub reads on its own threads
def test_the_asgi_stream_sends_the_failed_event_and_its_refusals_in_french():
    job = failed_job()
    path = f"/api/v1.0/jobs/{job.id}/events/"
    french = [(b"accept-language", FRENCH.encode())]

    async def calls() -> list[Response]:
        # One event loop, as in a web process: the hub lives as long as it.
        try:
            return [
                await call_stream(path, f"ticket={tickets.issue(job.id, job.owner_id)}".encode(), french),
                await call_stream(path, b"ticket=forged", french),
                await call_stream("/api/v1.0/jobs/not-a-uuid/events/", b"", french),
                await call_stream(path, b"", french),
            ]
        finally:
            await streams.shutdown()

    opened, refused, unknown, anonymous = async_to_sync(calls)()

    assert opened.status == 200 and opened.headers[b"content-language"] == b"fr"
    assert sse_events(opened.body)[-1][1]["error"]["message"] == FRENCH_MESSAGE
    assert (refused.status, json.loads(refused.body)) == (
        401,
        {"code": "invalid_ticket", "message": "Ce ticket n'ouvre pas les événements de cette tâche."},
    )
    assert refused.headers[b"content-language"] == b"fr"
    assert (unknown.status, json.loads(unknown.body)["message"]) == (404, "Aucune tâche n'a cet identifiant.")
    assert anonymous.status == 401
    assert json.loads(anonymous.body) == {
        "code": "not_authenticated",
        "message": "Informations d'authentification non fournies.",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("fr", "La requête a été refusée : son jeton CSRF est absent ou invalide. Rechargez la page et réessayez."),
        ("en", "The request was refused: its CSRF token is missing or invalid. Reload the page and try again."),
    ],
)
def test_a_csrf_failure_is_a_json_error_with_a_code(accept_language, message):
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "a", "password": "b"}, HTTP_ACCEPT_LANGUAGE=accept_language
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["code"], body["message"]) == ("csrf_failed", message)
    assert body["code"] in documented_codes()
    assert "CSRF" in body["detail"]  # Django's own reason, for developers
