"""Docs' own AI paths through a real uvicorn web process, a real worker, the fake model and the
fake Docs: requests shaped exactly as Docs' frontend sends them get the model's answer in Docs'
shape, and a web process holds no thread per request waiting for its job."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import aiohttp
import httpx
import pytest

from suite_ai.jobs.models import Job
from tests.fakes.docs_server import FakeDocsServer
from tests.support.processes import start_web
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAITING = 48
REPLY = "# Titre\n\nDu **gras**, de l'*italique* et un [lien](https://example.org/x).\n\n- un\n- deux"
OPEN_RATES = {
    "SUITE_AI_DOCS_AI_USER_RATES": "minute=1000,hour=1000,day=1000",
    "SUITE_AI_DOCS_AI_DOCUMENT_RATES": "minute=1000,hour=1000,day=1000",
}


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.fixture
def docs() -> Iterator[FakeDocsServer]:
    with FakeDocsServer() as server:
        yield server


@pytest.fixture
def stack(docs, model_env, worker_factory, tmp_path):
    env = {**model_env, **OPEN_RATES, "DOCS_BASE_URL": docs.url, "DOCS_PUBLIC_URL": docs.url}
    web, url = start_web(tmp_path, **env)
    worker_factory(**env)
    yield web, url
    web.stop()


def frontend_headers(docs: FakeDocsServer, cookies: dict[str, str]) -> dict[str, str]:
    """``fetchAPI`` (Docs' fetchApi.ts): JSON, credentials included, ``X-CSRFToken`` from the
    ``csrftoken`` cookie; the browser adds the page's ``Origin``."""
    return {
        "Content-Type": "application/json",
        "X-CSRFToken": cookies["csrftoken"],
        "Origin": docs.url,
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
    }


def test_ai_transform_and_ai_translate_answer_with_the_model_result(docs, stack, fake_model):
    _web, url = stack
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    document = docs.add_document("Minutes", owner=alice)
    headers = frontend_headers(docs, docs.login(alice))
    fake_model.configure(reply=REPLY)

    transform = httpx.post(
        f"{url}/api/v1.0/documents/{document.id}/ai-transform/",
        json={"text": "Un texte à corriger.", "action": "correct"},
        headers=headers,
        timeout=60,
    )
    assert transform.status_code == 200, transform.text
    assert transform.json() == {"answer": REPLY}

    translate = httpx.post(
        f"{url}/api/v1.0/documents/{document.id}/ai-translate/",
        json={"text": "<h1>Title</h1><p>Some <strong>bold</strong> text.</p>", "language": "fr"},
        headers=headers,
        timeout=60,
    )
    assert translate.status_code == 200, translate.text
    html = translate.json()["answer"]
    for fragment in (
        "<h1>Titre</h1>",
        "<strong>gras</strong>",
        "<em>italique</em>",
        '<a href="https://example.org/x">lien</a>',
        "<li>un</li>",
    ):
        assert fragment in html, html
    # The model read markdown made from the HTML, formatting included, and was asked for French.
    sent = fake_model.requests[-1]["body"]["messages"]
    assert "# Title" in sent[-1]["content"] and "**bold**" in sent[-1]["content"]
    assert "français" in sent[0]["content"]
    jobs = list(Job.objects.order_by("created_at"))
    assert [(job.action, job.status, job.options.get("language")) for job in jobs] == [
        ("correct", "succeeded", None),
        ("translate", "succeeded", "fr"),
    ]
    assert all(job.usage.get("prompt_tokens") for job in jobs)  # usage accounted to the user and document
    assert {str(job.document_id) for job in jobs} == {document.id}


def test_requests_waiting_for_their_job_hold_no_thread(docs, stack, fake_model):
    web, url = stack
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    document = docs.add_document("Minutes", owner=alice)
    headers = frontend_headers(docs, docs.login(alice))
    fake_model.configure(latency=0.05)
    endpoint = f"{url}/api/v1.0/documents/{document.id}/ai-transform/"
    first = httpx.post(endpoint, json={"text": "Bonjour.", "action": "rephrase"}, headers=headers, timeout=60)
    assert first.status_code == 200, first.text
    threads_before = threads_of(web.process.pid)
    fake_model.configure(latency=4.0)  # the model is slow: the requests wait

    answers: list[tuple[int, dict]] = []

    async def crowd() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(index: int) -> None:
                body = {"text": f"Texte numéro {index} à reformuler.", "action": "rephrase"}
                async with session.post(endpoint, json=body, headers=headers) as response:
                    answers.append((response.status, await response.json()))

            await asyncio.gather(*(one(index) for index in range(WAITING)))

    thread = threading.Thread(target=asyncio.run, args=(crowd(),), daemon=True)
    thread.start()
    # All admitted while the model holds every job: with a thread per waiting request, the web
    # process's pool (SUITE_AI_WEB_THREADS, 16) would admit 16 and answer them before the others.
    wait_for(lambda: Job.objects.count() == WAITING + 1, timeout=60)
    # Every request was admitted and is waiting for its job: threads did not grow with them.
    waiting_threads = threads_of(web.process.pid)
    assert not answers
    assert waiting_threads - threads_before <= 2 * 2 + 2, (threads_before, waiting_threads)
    thread.join(timeout=180)
    assert len(answers) == WAITING
    assert {status for status, _body in answers} == {200}
    for status, body in answers:
        assert status == 200 and body["answer"].strip()


def test_a_docs_session_runs_suite_ais_own_actions_and_its_note_goes_through_docs_api(docs, stack, fake_model):
    """Part 1 of issue 15: Docs' session cookie on suite_ai's own API. The note is read and
    written through Docs' /api/v1.0/ with the same session (CSRF pair and origin included), once."""
    from suite_ai import blocknote
    from tests.support.waiting import b64, wait_finished

    _web, url = stack
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    source = docs.add_document(
        "Comité", owner=alice, content=b64(blocknote.markdown_to_update("# Comité\n\nLe budget est adopté."))
    )
    cookies = docs.login(alice)
    headers = frontend_headers(docs, cookies)
    endpoint = f"{url}/api/v1.0/documents/{source.id}/actions/"

    # CSRF as Docs: a POST without the header is refused before anything is created.
    no_csrf = {name: value for name, value in headers.items() if name != "X-CSRFToken"}
    refused = httpx.post(endpoint, json={"action": "note"}, headers=no_csrf, timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed"), refused.text
    assert Job.objects.count() == 0

    response = httpx.post(endpoint, json={"action": "note"}, headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    job = wait_finished(response.json()["id"])
    assert job.status == "succeeded", job.error
    notes = docs.children(source)
    assert len(notes) == 1 and str(job.note_id) == notes[0].id
    assert docs.content(notes[0])
    # Every call to Docs was on /api/v1.0/ with alice's session, none with a bearer token.
    calls = [r for r in docs.requests if r["path"].startswith("/api/v1.0/documents/")]
    assert calls and all(r["session"] == cookies["docs_sessionid"] and r["auth"] == "none" for r in calls)
    assert [r["status"] for r in docs.requests_to(r"/children/$", "POST")] == [201]
    job.refresh_from_db()
    assert job.credentials == ""  # the session is wiped from the job when it ends

    # The session reads suite_ai's API too (a safe method: no CSRF pair needed).
    jobs = httpx.get(f"{url}/api/v1.0/jobs/", headers={"Cookie": headers["Cookie"]}, timeout=30)
    assert jobs.status_code == 200 and jobs.json()["count"] == 1
