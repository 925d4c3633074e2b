"""Every kind of error, asked for in French, in English, or with no language: JSON, a code the
README documents, and the whole message in the language asked for (English by default)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.test import AsyncClient, Client, RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from suite_ai.api_errors import bad_request_view, exception_handler, not_found_view, permission_denied_view
from suite_ai.jobs.models import Job
from tests.conftest import Caller
from tests.support.error_codes import documented_codes

pytestmark = pytest.mark.django_db

SUBMIT = "/api/v1.0/documents/{}/actions/"
NBSP = "\xa0"  # Django REST framework's French quotes: «\xa0…\xa0»


@dataclass(frozen=True)
class Kind:
    status: int
    code: str
    en: str  # regular expressions the whole message must match
    fr: str
    send: Callable[[Any, dict[str, str]], Any]


def anonymous(headers: dict[str, str]) -> APIClient:
    client = APIClient()
    client.credentials(**headers)
    return client


def authenticated(env: Any, headers: dict[str, str]) -> APIClient:
    env.alice.client.credentials(HTTP_AUTHORIZATION=f"Bearer {env.alice.token}", **headers)
    return env.alice.client


def submit(env: Any, headers: dict[str, str], action: str = "summarize", **body: Any) -> Any:
    return authenticated(env, headers).post(SUBMIT.format(uuid.uuid4()), {"action": action, **body}, format="json")


def throttled(env: Any, headers: dict[str, str]) -> Any:
    # The embedded counter outlives a test's database: submit until refused (at most twice).
    env.settings.SUITE_AI_SUBMIT_RATE = "1/hour"
    for _ in range(3):
        response = submit(env, headers, input={"markdown": "Un texte."})
        if response.status_code == 429:
            return response
    raise AssertionError("never throttled")


def body_over_djangos_limit_outside_the_api(env: Any, headers: dict[str, str]) -> Any:
    # The admin's login form reads the body through Django, which refuses it (RequestDataTooBig).
    env.settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    return Client(**headers).post("/admin/login/", {"username": "x" * 5000})


KINDS: dict[str, Kind] = {
    "auth missing": Kind(
        401,
        "not_authenticated",
        r"Authentication credentials were not provided\.",
        r"Informations d'authentification non fournies\.",
        lambda env, h: anonymous(h).post(SUBMIT.format(uuid.uuid4()), {"action": "summarize"}, format="json"),
    ),
    "bad token": Kind(
        401,
        "authentication_failed",
        r"Invalid or revoked token\.",
        r"Jeton invalide ou révoqué\.",
        lambda env, h: anonymous({"HTTP_AUTHORIZATION": "Bearer sai_not-a-token", **h}).get("/api/v1.0/jobs/"),
    ),
    "unknown job": Kind(
        404,
        "not_found",
        r"Not found\.",
        r"Non trouvé\.",
        lambda env, h: authenticated(env, h).get(f"/api/v1.0/jobs/{uuid.uuid4()}/"),
    ),
    "unknown route": Kind(
        404,
        "not_found",
        r"Not found\.",
        r"Non trouvé\.",
        lambda env, h: authenticated(env, h).get("/api/v1.0/nothing-here/"),
    ),
    "unknown action": Kind(
        400,
        "unknown_action",
        r"Unknown action 'poem'\. Available: summarize, .+\.",
        r"Action 'poem' inconnue\. Actions disponibles : summarize, .+\.",
        lambda env, h: submit(env, h, "poem", input={"markdown": "x"}),
    ),
    "invalid option": Kind(
        400,
        "invalid_option",
        r"The option 'language' must be one of: fr, en, .+\.",
        r"L'option 'language' doit valoir l'une de ces valeurs : fr, en, .+\.",
        lambda env, h: submit(env, h, "translate", input={"markdown": "x"}, options={"language": "klingon"}),
    ),
    "input too large": Kind(
        413,
        "input_too_large",
        r"The markdown input is 1200 bytes; the limit is 1000 bytes\.",
        r"L'entrée markdown fait 1200 octets ; la limite est de 1000 octets\.",
        lambda env, h: (
            setattr(env.settings, "SUITE_AI_MAX_INPUT_BYTES", 1000) or submit(env, h, input={"markdown": "é" * 600})
        ),
    ),
    "body too large": Kind(
        413,
        "input_too_large",
        r"The request body exceeds the limit of 2000 bytes\.",
        r"Le corps de la requête dépasse la limite de 2000 octets\.",
        lambda env, h: (
            setattr(env.settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 2000) or submit(env, h, input={"markdown": "a" * 5000})
        ),
    ),
    "body too large outside the API": Kind(
        413,
        "input_too_large",
        r"The request body exceeds the limit of 2000 bytes\.",
        r"Le corps de la requête dépasse la limite de 2000 octets\.",
        body_over_djangos_limit_outside_the_api,
    ),
    "invalid blocks": Kind(
        400,
        "unknown_block_type",
        r"A block has a type the editor does not know\.",
        r"Un bloc a un type que l'éditeur ne connaît pas\.",
        lambda env, h: submit(env, h, input={"blocks": [{"id": "a", "type": "nope", "content": "x"}]}),
    ),
    "docs token required": Kind(
        401,
        "docs_token_required",
        r"Reading the document from Docs or writing a note there needs an OIDC access token .+\.",
        r"Lire le document dans Docs ou y écrire une note nécessite un jeton d'accès OIDC .+\.",
        lambda env, h: setattr(env.settings, "DOCS_BASE_URL", "http://docs.invalid") or submit(env, h, "note"),
    ),
    "disallowed host": Kind(
        400,
        "disallowed_host",
        r"This service does not answer for the host name in the request \(DJANGO_ALLOWED_HOSTS\)\.",
        r"Ce service ne répond pas pour le nom d'hôte de la requête \(DJANGO_ALLOWED_HOSTS\)\.",
        lambda env, h: authenticated(env, {"HTTP_HOST": "evil.example", **h}).get("/api/v1.0/actions/"),
    ),
    "malformed JSON": Kind(
        400,
        "malformed_json",
        r"The request body is not valid JSON \(line 1, column 2\)\.",
        r"Le corps de la requête n'est pas du JSON valide \(ligne 1, colonne 2\)\.",
        lambda env, h: authenticated(env, h).post(
            SUBMIT.format(uuid.uuid4()), data="{not json", content_type="application/json"
        ),
    ),
    "unsupported media type": Kind(
        415,
        "unsupported_media_type",
        r'Unsupported media type "text/plain" in request\.',
        f"Type de média «{NBSP}text/plain{NBSP}» non supporté\\.",
        lambda env, h: authenticated(env, h).post(
            SUBMIT.format(uuid.uuid4()), data="du texte", content_type="text/plain"
        ),
    ),
    "method not allowed": Kind(
        405,
        "method_not_allowed",
        r'Method "DELETE" not allowed\.',
        f"Méthode «{NBSP}DELETE{NBSP}» non autorisée\\.",
        lambda env, h: authenticated(env, h).delete(SUBMIT.format(uuid.uuid4())),
    ),
    "throttled": Kind(
        429,
        "throttled",
        r"Request was throttled\. Expected available in \d+ seconds?\.",
        r"Requête ralentie\. Disponible à nouveau dans \d+ secondes?\.",
        throttled,
    ),
}

LANGUAGES = {"fr": "fr-FR,fr;q=0.9,en;q=0.5", "en": "en-GB,en;q=0.8", None: None}


@dataclass
class Env:
    alice: Caller
    settings: Any


@pytest.mark.parametrize("language", list(LANGUAGES), ids=lambda lang: f"lang={lang}")
@pytest.mark.parametrize("kind", list(KINDS))
def test_an_error_is_json_with_a_documented_code_in_the_language_asked_for(
    kind, language, alice, model_settings, settings
):
    expected = KINDS[kind]
    headers = {"HTTP_ACCEPT_LANGUAGE": LANGUAGES[language]} if language else {}
    jobs_before = Job.objects.count()

    response = expected.send(Env(alice, settings), headers)

    assert response.status_code == expected.status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == expected.code
    assert body["code"] in documented_codes()
    answered = language or "en"  # no Accept-Language: English (see settings.LANGUAGE_CODE)
    assert re.fullmatch(getattr(expected, answered), body["message"]), body["message"]
    assert response["Content-Language"] == answered
    if kind != "throttled":  # the throttle lets the first submission through
        assert Job.objects.count() == jobs_before


def test_a_language_other_than_french_or_english_gets_english(alice):
    alice.client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}", HTTP_ACCEPT_LANGUAGE="de-DE,de")
    body = alice.client.get(f"/api/v1.0/jobs/{uuid.uuid4()}/").json()
    assert body == {"code": "not_found", "message": "Not found."}


def test_a_throttled_answer_says_when_to_come_back(alice, model_settings, settings):
    response = throttled(Env(alice, settings), {})
    assert response.json()["retry_after"] == int(response["Retry-After"]) > 0


def test_a_library_refusal_keeps_its_technical_wording_in_detail(alice, model_settings):
    alice.client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}", HTTP_ACCEPT_LANGUAGE="fr")
    response = alice.client.post(
        SUBMIT.format(uuid.uuid4()),
        {"action": "summarize", "input": {"blocks": [{"id": "a", "type": "nope", "content": "x"}]}},
        format="json",
    )
    body = response.json()
    assert body["path"] == "[0]" and body["block_id"] == "a"
    assert body["detail"].startswith("[0]: unknown block type 'nope'")


def test_every_413_for_the_body_names_the_limit_django_enforces(alice, model_settings, settings):
    # The body limit is DATA_UPLOAD_MAX_MEMORY_SIZE, not the input limit it keeps a margin above:
    # the submission view's own check, and the API handler for a view that reads request.body.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3000
    settings.SUITE_AI_MAX_INPUT_BYTES = 1000
    response = alice.submit("summarize", input={"markdown": "a" * 5000})
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 3000 and "3000" in response.json()["message"]
    handled = exception_handler(RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."), {})
    assert handled is not None and handled.status_code == 413
    assert handled.data["limit_bytes"] == 3000
    assert handled.data["message"] == "The request body exceeds the limit of 3000 bytes."


def test_the_event_stream_answers_in_the_language_asked_for_too(alice):
    # The event stream is an async view: the language middleware runs in Django's async chain.
    response = async_to_sync(AsyncClient().get)(
        f"/api/v1.0/jobs/{uuid.uuid4()}/events/",
        headers={"Authorization": f"Bearer {alice.token}", "Accept-Language": "fr"},
    )
    assert response.status_code == 404
    assert response["Content-Language"] == "fr"
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize(
    ("view", "exception", "status", "code", "french"),
    [
        (bad_request_view, SuspiciousOperation("odd"), 400, "bad_request", "La requête est mal formée."),
        (permission_denied_view, PermissionDenied(), 403, "permission_denied", "Vous n'avez pas la permission"),
        (not_found_view, Http404(), 404, "not_found", "Non trouvé."),
    ],
)
def test_djangos_other_error_pages_are_json_errors_too(view, exception, status, code, french):
    with translation.override("fr"):
        response = view(RequestFactory().get("/"), exception)
    assert response.status_code == status
    body = json.loads(response.content)
    assert body["code"] == code and body["code"] in documented_codes()
    assert body["message"].startswith(french)
