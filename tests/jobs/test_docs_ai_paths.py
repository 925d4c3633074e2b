"""Docs' own AI paths served by suite_ai (ai-transform, ai-translate), asked exactly as Docs'
frontend asks (``useDocAITransform.tsx``/``useDocAITranslate.tsx`` through ``fetchApi.ts``: JSON,
the session cookie, ``X-CSRFToken`` = the ``csrftoken`` cookie), against the fake Docs. Every
refusal is Docs' own answer (Docs' tests ``test_api_documents_ai_transform.py`` /
``…_ai_translate.py``), and a refused request creates no job."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client

from suite_ai.accounts import docs_session
from suite_ai.accounts.models import User
from suite_ai.blocknote.html import html_to_markdown, markdown_to_html
from suite_ai.jobs.models import Job
from tests.fakes.docs_server import FakeDocsServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(settings) -> Iterator[FakeDocsServer]:
    with FakeDocsServer() as server:
        settings.DOCS_BASE_URL = server.url
        settings.DOCS_PUBLIC_URL = server.url
        settings.SUITE_AI_DOCS_SESSION_AUTH = True
        docs_session.CACHE.clear()
        yield server
    docs_session.CACHE.clear()


@pytest.fixture
def editor(docs):
    user = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    document = docs.add_document("Minutes", owner=user)
    return user, document, docs.login(user)


def post(docs, document_id, path, body, cookies=None, *, csrf=True, origin=True, **headers):
    client = Client()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    if csrf and cookies and "csrftoken" in cookies:
        headers["HTTP_X_CSRFTOKEN"] = cookies["csrftoken"]
    if origin:
        headers["HTTP_ORIGIN"] = docs.url
    return client.post(
        f"/api/v1.0/documents/{document_id}/{path}/", json.dumps(body), content_type="application/json", **headers
    )


def test_no_session_is_401_as_docs(docs, editor):
    _user, document, _cookies = editor
    response = post(docs, document.id, "ai-transform", {"text": "hello", "action": "prompt"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    # A session Docs does not know (signed out, or anonymous): the same answer.
    docs_cookie = {"docs_sessionid": "unknown", "csrftoken": "a" * 32}
    assert (
        post(docs, document.id, "ai-transform", {"text": "hello", "action": "prompt"}, docs_cookie).status_code == 401
    )
    assert Job.objects.count() == 0


def test_a_session_without_the_ability_is_403_as_docs(docs, editor):
    _owner, document, _cookies = editor
    reader = docs.add_user("bob-sub", "bob@example.org")
    docs.grant(document, reader, "reader")
    cookies = docs.login(reader)
    for path, body in (
        ("ai-transform", {"text": "Hello", "action": "prompt"}),
        ("ai-translate", {"text": "Hi", "language": "es"}),
    ):
        response = post(docs, document.id, path, body, cookies)
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert Job.objects.count() == 0
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"csrf": False}, "CSRF token missing."),
        ({"origin": False}, "Referer checking failed - no Referer."),
        ({"HTTP_X_CSRFTOKEN": "b" * 32}, "CSRF token from the 'X-Csrftoken' HTTP header incorrect."),
    ],
)
def test_csrf_failures_are_403_as_docs(docs, editor, kwargs, reason):
    _user, document, cookies = editor
    if "HTTP_X_CSRFTOKEN" in kwargs:
        kwargs = {"csrf": False, **kwargs}
    response = post(docs, document.id, "ai-transform", {"text": "Hello", "action": "prompt"}, cookies, **kwargs)
    assert response.status_code == 403
    assert response.json() == {"detail": f"CSRF Failed: {reason}"}
    assert Job.objects.count() == 0


def test_another_origin_and_a_missing_cookie_are_refused(docs, editor):
    _user, document, cookies = editor
    response = post(
        docs,
        document.id,
        "ai-transform",
        {"text": "x", "action": "prompt"},
        cookies,
        origin=False,
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed: Origin checking failed - https://evil.example")
    no_csrf_cookie = {"docs_sessionid": cookies["docs_sessionid"]}
    response = post(docs, document.id, "ai-transform", {"text": "x", "action": "prompt"}, no_csrf_cookie)
    assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set."}
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("ai-transform", {"text": " ", "action": "prompt"}, {"text": ["This field may not be blank."]}),
        ("ai-transform", {"text": "Hello", "action": "invalid"}, {"action": ['"invalid" is not a valid choice.']}),
        ("ai-transform", {"action": "prompt"}, {"text": ["This field is required."]}),
        ("ai-translate", {"text": " ", "language": "es"}, {"text": ["This field may not be blank."]}),
        ("ai-translate", {"text": "Hello", "language": "invalid"}, {"language": ['"invalid" is not a valid choice.']}),
    ],
)
def test_bad_input_gets_docs_answers(docs, editor, path, body, errors):
    _user, document, cookies = editor
    response = post(docs, document.id, path, body, cookies)
    assert response.status_code == 400
    assert response.json() == errors
    assert Job.objects.count() == 0


def test_unknown_document_is_404_and_a_body_over_the_limit_413(docs, editor, settings):
    _user, _document, cookies = editor
    response = post(docs, uuid.uuid4(), "ai-transform", {"text": "x", "action": "prompt"}, cookies)
    assert response.status_code == 404
    assert response.json() == {"detail": "No Document matches the given query."}
    settings.SUITE_AI_MAX_INPUT_BYTES = 100
    response = post(docs, _document.id, "ai-transform", {"text": "x" * 200, "action": "correct"}, cookies)
    assert response.status_code == 413
    assert response.json()["code"] == "input_too_large"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(docs, _document.id, "ai-transform", {"text": "x" * 2000, "action": "correct"}, cookies)
    assert response.status_code == 413
    assert Job.objects.count() == 0


def test_rates_per_user_are_settings_with_docs_answer(docs, editor, settings, model_settings):
    _user, document, cookies = editor
    settings.SUITE_AI_DOCS_AI_USER_RATES = {"minute": 1, "hour": 50, "day": 200}
    settings.SUITE_AI_DOCS_AI_WAIT = 0.2  # no worker here: the accepted one times out
    first = post(docs, document.id, "ai-transform", {"text": "Hello", "action": "correct"}, cookies)
    assert first.status_code == 504 and first.json()["code"] == "ai_timeout"
    second = post(docs, document.id, "ai-transform", {"text": "Hello", "action": "correct"}, cookies)
    assert second.status_code == 429
    assert second.json()["detail"].startswith("Request was throttled. Expected available in")
    assert int(second["Retry-After"]) >= 1
    assert Job.objects.count() == 1


def test_the_session_user_is_the_token_user_of_the_same_email(docs, editor, settings, model_settings):
    _user, document, cookies = editor
    settings.SUITE_AI_DOCS_AI_WAIT = 0.1
    post(docs, document.id, "ai-transform", {"text": "Hello", "action": "summarize"}, cookies)
    session_user = User.objects.get()
    assert session_user.sub.startswith("docs:") and session_user.email == "alice@example.org"
    from suite_ai.accounts.oidc import upsert_user

    token_user = upsert_user("alice-sub", "alice@example.org", "Alice Martin")
    assert token_user.pk == session_user.pk and token_user.sub == "alice-sub"
    docs_session.CACHE.clear()
    post(docs, document.id, "ai-transform", {"text": "Hello again", "action": "summarize"}, cookies)
    assert User.objects.count() == 1
    assert set(Job.objects.values_list("owner_id", flat=True)) == {session_user.pk}


def test_the_cookie_goes_to_docs_only_as_docs_session_and_is_cached(docs, editor, settings, model_settings):
    _user, document, cookies = editor
    settings.SUITE_AI_DOCS_AI_WAIT = 0.1
    for _ in range(2):
        post(docs, document.id, "ai-transform", {"text": "Hello", "action": "summarize"}, {**cookies, "other": "x"})
    me = docs.requests_to(r"/api/v1.0/users/me/", "GET")
    doc = docs.requests_to(rf"/api/v1.0/documents/{document.id}/$", "GET")
    assert len(me) == 1 and len(doc) == 1  # the second request used the cache
    assert me[0]["session"] == cookies["docs_sessionid"]
    job = Job.objects.first()
    assert job is not None and job.credentials == ""  # the text was sent: the worker needs no session


def test_html_formatting_survives_the_round_trip():
    html = (
        "<h2>Titre</h2><p>Du <strong>gras</strong>, de l'<em>italique</em>, <u>souligné</u>, <s>barré</s>, "
        '<code>a*b</code> et un <a href="https://example.org/x">lien</a>.</p>'
        "<ul><li><p>un</p></li><li><p>deux</p></li></ul><ol><li><p>premier</p></li></ol>"
    )
    back = markdown_to_html(html_to_markdown(html))
    for fragment in (
        "<h2>Titre</h2>",
        "<strong>gras</strong>",
        "<em>italique</em>",
        "<u>souligné</u>",
        "<s>barré</s>",
        "<code>a*b</code>",
        '<a href="https://example.org/x">lien</a>',
        "<ul>",
        "<ol>",
        "premier",
    ):
        assert fragment in back, fragment
    # What the model writes never becomes markup beyond markdown's (and <u>).
    assert "<script>" not in markdown_to_html("<script>alert(1)</script>")
