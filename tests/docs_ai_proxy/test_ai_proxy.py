"""Docs' ai-proxy served by suite_ai: a real web server (uvicorn, as production runs it), the fake
Mistral API and the fake Docs over loopback, and requests shaped as BlockNote's AI extension
sends them through the Vercel AI SDK's ``DefaultChatTransport`` (Docs' ``useAI.tsx``)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from suite_ai.docs_ai_proxy.blocknote_ai import BLOCKNOTE_TOOL_STRICT_PROMPT
from suite_ai.jobs.models import ModelCall
from tests.docs_ai_proxy.payloads import DOCUMENT_STATE, OPERATIONS, chat_body, events, post
from tests.fakes.mistral_server import Behaviour
from tests.support.processes import start_web
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_chat_streams_the_models_text_as_ui_message_parts(proxy, token, fake_model):
    document_id = uuid.uuid4()
    fake_model.configure(reply="Bonjour, voici la réponse.", chunks=3)

    response = post(proxy, document_id, chat_body("Dis bonjour"), token)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["x-vercel-ai-data-stream"] == "v1"
    assert response.headers["x-accel-buffering"] == "no"
    chunks = events(response.text)
    assert chunks[0]["type"] == "start"
    assert chunks[-1]["type"] == "finish"
    deltas = [chunk["delta"] for chunk in chunks if chunk["type"] == "text-delta"]
    assert len(deltas) > 1  # streamed, not one block
    assert "".join(deltas) == "Bonjour, voici la réponse."
    assert response.text.rstrip().endswith("data: [DONE]")

    # The tokens the model reported, in the usage ledger, for this user and this document.
    call = ModelCall.objects.get(document_id=document_id)
    model_request = fake_model.requests[-1]
    assert call.job_id is None and call.stage == "ai_proxy" and call.owner.sub == "alice"
    assert call.prompt_tokens > 0 and call.completion_tokens > 0
    assert call.model == model_request["body"]["model"] == "mistral-small-latest"


def test_tool_definitions_reach_the_model_and_its_call_is_deferred_to_the_client(proxy, token, fake_model):
    fake_model.when("Corrige", Behaviour(tool_call=("applyDocumentOperations", json.dumps(OPERATIONS))))

    response = post(proxy, uuid.uuid4(), chat_body("Corrige ce texte", tools=True, state=DOCUMENT_STATE), token)

    assert response.status_code == 200, response.text
    chunks = events(response.text)
    available = [chunk for chunk in chunks if chunk["type"] == "tool-input-available"]
    assert len(available) == 1
    assert available[0]["toolName"] == "applyDocumentOperations"
    assert available[0]["input"] == OPERATIONS
    # Deferred: the server runs nothing, no output comes back, the browser applies the operations.
    assert not [chunk for chunk in chunks if chunk["type"].startswith("tool-output")]
    assert chunks[-1]["type"] == "finish"

    sent = fake_model.requests[-1]["body"]
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["applyDocumentOperations"]
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["operations"]
    # The server's strict instructions, as Docs adds them when applyDocumentOperations is offered.
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][0]["content"] == BLOCKNOTE_TOOL_STRICT_PROMPT.strip()


def test_the_document_state_is_injected_before_the_users_message(proxy, token, fake_model):
    response = post(proxy, uuid.uuid4(), chat_body("Résume", state=DOCUMENT_STATE), token)
    assert response.status_code == 200, response.text

    messages = fake_model.requests[-1]["body"]["messages"]
    roles = [message["role"] for message in messages]
    assert roles == ["assistant", "user"]
    injected = json.dumps(messages[0]["content"], ensure_ascii=False)
    assert "There is no active selection." in injected
    assert "Prefer updating existing blocks" in injected
    assert "<p>Hello world</p>" in injected
    assert "Résume" in json.dumps(messages[1]["content"], ensure_ascii=False)


def test_a_selection_is_described_with_the_selected_blocks(proxy, token, fake_model):
    state = {
        "selection": {"from": 1, "to": 12},
        "selectedBlocks": [{"id": "block-1$", "block": "<p>Hello world</p>"}],
        "blocks": [{"id": "block-1$", "block": "<p>Hello world</p>"}, {"id": "block-2$", "block": "<p>Fin</p>"}],
    }
    response = post(proxy, uuid.uuid4(), chat_body("Traduis", state=state), token)
    assert response.status_code == 200, response.text

    injected = json.dumps(fake_model.requests[-1]["body"]["messages"][0]["content"], ensure_ascii=False)
    assert "This is the latest state of the selection" in injected
    assert "<p>Fin</p>" in injected  # the whole document follows the selection


@pytest.mark.parametrize(
    "body",
    [
        b'{"foo": "bar", "trigger": "submit-message"}',  # Docs' own test of this answer
        b"not json",
        b'{"id": "c", "trigger": "submit-message", "messages": [{"id": "m", "role": "robot", "parts": []}]}',
        json.dumps({**chat_body("x"), "toolDefinitions": ["applyDocumentOperations"]}).encode(),
        json.dumps(chat_body("x", state="the whole document")).encode(),  # type: ignore[arg-type]
    ],
    ids=["docs-test", "not-json", "unknown-role", "tools-not-an-object", "state-not-an-object"],
)
def test_an_invalid_payload_is_refused_as_docs_does(proxy, token, fake_model, body):
    before = len(fake_model.requests)

    response = post(proxy, uuid.uuid4(), body, token, **{"Accept-Language": "fr"})

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_payload"
    assert error["detail"] == "Invalid submitted payload"  # Docs' own words
    assert error["message"] == "Contenu de la requête invalide"
    assert len(fake_model.requests) == before
    assert not ModelCall.objects.exists()


def test_a_body_over_the_limit_is_refused_before_the_model(proxy, token, fake_model):
    before = len(fake_model.requests)
    state = {**DOCUMENT_STATE, "blocks": [{"id": f"b{i}$", "block": "<p>" + "x" * 1000 + "</p>"} for i in range(80)]}

    response = post(proxy, uuid.uuid4(), chat_body("Résume", state=state), token)

    assert response.status_code == 413
    assert response.json()["code"] == "input_too_large"
    assert response.json()["limit_bytes"] == 65536
    assert len(fake_model.requests) == before


def test_credentials_are_required(proxy, fake_model):
    response = post(proxy, uuid.uuid4(), chat_body("Bonjour"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_model_failure_reaches_the_client_as_the_streams_error_chunk(proxy, token, fake_model):
    response = post(proxy, uuid.uuid4(), chat_body("Bonjour [[fail:503]]"), token)

    # As in Docs: the stream has begun, so the failure is a chunk the AI SDK raises in the editor.
    assert response.status_code == 200
    chunks = events(response.text)
    assert [chunk["type"] for chunk in chunks if chunk["type"] == "error"] == ["error"]
    assert not ModelCall.objects.exists()  # the model reported no usage


def test_a_client_leaving_stops_the_model_call(proxy, token, fake_model):
    fake_model.configure(chunks=50, chunk_delay=0.2)
    before = len(fake_model.requests)
    with httpx.stream(
        "POST",
        f"{proxy}/api/v1.0/documents/{uuid.uuid4()}/ai-proxy/",
        json=chat_body("Écris un long texte"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if '"text-delta"' in line:
                break  # the editor's tab is closed after the first words

    request = wait_for(lambda: fake_model.requests[before] if len(fake_model.requests) > before else None)
    wait_for(lambda: request["ended"], timeout=10)
    assert request["status"] == 499  # the model's stream was dropped, not read to its end


def test_the_user_rate_is_applied(fake_model, token, tmp_path):
    process, url = start_web(
        tmp_path,
        MISTRAL_API_KEY=fake_model.api_key,
        MISTRAL_SERVER_URL=fake_model.url,
        SUITE_AI_DOCS_AI_USER_RATES="hour=2",
    )
    try:
        statuses = [post(url, uuid.uuid4(), chat_body("Bonjour"), token).status_code for _ in range(3)]
        refused = post(url, uuid.uuid4(), chat_body("Bonjour"), token)
    finally:
        process.stop()
    assert statuses == [200, 200, 429]
    assert refused.json()["code"] == "throttled"
    assert refused.json()["scope"] == "user"
    assert int(refused.headers["retry-after"]) > 0


def test_the_streams_tokens_count_against_the_documents_daily_quota(fake_model, token, tmp_path):
    document_id = uuid.uuid4()
    process, url = start_web(
        tmp_path,
        MISTRAL_API_KEY=fake_model.api_key,
        MISTRAL_SERVER_URL=fake_model.url,
        SUITE_AI_DAILY_TOKENS_PER_DOCUMENT="100",
    )
    try:
        fake_model.configure(reply="mot " * 100)  # about 105 tokens, as the fake counts them
        first = post(url, document_id, chat_body("Bonjour"), token)
        used = ModelCall.objects.get(document_id=document_id)
        # A small request, which alone would fit: refused for what the first stream used.
        second = post(url, document_id, chat_body("Bonjour"), token)
        elsewhere = post(url, uuid.uuid4(), chat_body("Bonjour"), token)
    finally:
        process.stop()
    assert first.status_code == 200
    assert used.prompt_tokens + used.completion_tokens > 100
    assert second.status_code == 429
    assert second.json()["code"] == "quota_exceeded" and second.json()["scope"] == "document"
    assert elsewhere.status_code == 200


# --- With Docs: the ai_proxy ability decides --------------------------------------------------------


def test_docs_decides_by_the_ai_proxy_ability(docs, docs_proxy, fake_model):
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    bob = docs.add_user("bob-sub", "bob@example.org", "Bob Durand")
    document = docs.add_document("Compte rendu", owner=alice)
    docs.grant(document, bob, "reader")
    # Docs' Document.get_abilities: ai_proxy needs editing rights (AI_ALLOW_REACH_FROM).
    assert docs.abilities_of(document, alice)["ai_proxy"] is True
    assert docs.abilities_of(document, bob)["ai_proxy"] is False
    before = len(fake_model.requests)

    refused = post(docs_proxy, document.id, chat_body("Bonjour"), docs.token_for(bob))

    assert refused.status_code == 403
    assert refused.json()["code"] == "docs_forbidden"
    assert len(fake_model.requests) == before
    allowed = post(docs_proxy, document.id, chat_body("Bonjour"), docs.token_for(alice))
    assert allowed.status_code == 200, allowed.text
    assert any(chunk["type"] == "text-delta" for chunk in events(allowed.text))
    asked = docs.requests_to(rf"/external_api/v1.0/documents/{document.id}/$", "GET")
    assert len(asked) == 2  # each request asks Docs, with the caller's own token


def test_a_local_token_cannot_stand_for_a_docs_user(docs_proxy, token):
    response = post(docs_proxy, uuid.uuid4(), chat_body("Bonjour"), token)
    assert response.status_code == 401
    assert response.json()["code"] == "docs_token_required"


def session_post(url: str, docs, document_id, cookies: dict[str, str], *, csrf: bool = True) -> httpx.Response:
    """As Docs' frontend sends it: the session cookies, ``X-CSRFToken`` and the page's ``Origin``."""
    headers = {"Origin": docs.url, "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    if csrf:
        headers["X-CSRFToken"] = cookies["csrftoken"]
    return post(url, document_id, chat_body("Bonjour"), **headers)


def test_docs_session_opens_the_stream_with_the_ai_proxy_ability_and_csrf(docs, docs_proxy, fake_model):
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    bob = docs.add_user("bob-sub", "bob@example.org", "Bob Durand")
    document = docs.add_document("Compte rendu", owner=alice)
    docs.grant(document, bob, "reader")
    before = len(fake_model.requests)

    allowed = session_post(docs_proxy, docs, document.id, docs.login(alice))
    without_csrf = session_post(docs_proxy, docs, document.id, docs.login(alice), csrf=False)
    reader = session_post(docs_proxy, docs, document.id, docs.login(bob))

    assert allowed.status_code == 200, allowed.text
    assert any(chunk["type"] == "text-delta" for chunk in events(allowed.text))
    assert (without_csrf.status_code, without_csrf.json()["code"]) == (403, "csrf_failed")
    assert (reader.status_code, reader.json()["code"]) == (403, "docs_forbidden")
    assert len(fake_model.requests) == before + 1  # only the allowed one reached the model
    # The abilities were asked of Docs' own API, with the browser's session.
    assert docs.requests_to(rf"/api/v1.0/documents/{document.id}/$", "GET")
