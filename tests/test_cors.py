"""CORS: browsers on the origins of SUITE_AI_CORS_ALLOWED_ORIGINS may call the API (submit, follow
a job's events), preflights need no credentials, and every other origin gets no CORS header."""

from __future__ import annotations

import uuid

import pytest

from suite_ai.jobs.models import Job
from tests.support.settings_env import settings_from

pytestmark = pytest.mark.django_db

DOCS = "https://docs.example.gouv.fr"
OTHER = "https://evil.example.org"
SUBMIT = f"/api/v1.0/documents/{uuid.uuid4()}/actions/"
EVENTS = f"/api/v1.0/jobs/{uuid.uuid4()}/events/"
REQUEST_HEADERS = ("authorization", "content-type", "idempotency-key", "last-event-id")


@pytest.fixture(autouse=True)
def allowed_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [DOCS, "http://localhost:3000"]


def preflight(client, path: str, origin: str, method: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=", ".join(REQUEST_HEADERS),
    )


def cors_headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.items() if name.lower().startswith("access-control-")}


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize(("path", "method"), [(SUBMIT, "POST"), (EVENTS, "GET")])
def test_a_preflight_from_an_allowed_origin_is_answered_without_credentials(client, path, method):
    response = preflight(client, path, DOCS, method)  # no Authorization: a browser never sends it here
    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == DOCS
    assert method.lower() in listed(headers["access-control-allow-methods"])
    assert set(REQUEST_HEADERS) <= listed(headers["access-control-allow-headers"])
    assert "access-control-allow-credentials" not in headers  # bearer tokens, no cookies
    assert int(headers["access-control-max-age"]) > 0


@pytest.mark.parametrize(("path", "method"), [(SUBMIT, "POST"), (EVENTS, "GET")])
def test_a_preflight_from_another_origin_gets_no_cors_headers(client, path, method):
    response = preflight(client, path, OTHER, method)
    assert cors_headers(response) == {}


def test_an_allowed_origin_can_submit_and_read_the_job_location(alice, model_settings):
    response = alice.client.post(
        SUBMIT,
        {"action": "summarize", "input": {"markdown": "Un texte."}},
        format="json",
        HTTP_ORIGIN=DOCS,
        HTTP_IDEMPOTENCY_KEY="cors-1",
    )
    assert response.status_code == 202
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == DOCS
    assert {"location", "retry-after", "idempotent-replayed"} <= listed(headers["access-control-expose-headers"])
    assert response["Location"]


def test_an_error_reaches_an_allowed_origin_so_the_editor_can_read_it(client):
    response = client.post(SUBMIT, {"action": "summarize"}, content_type="application/json", HTTP_ORIGIN=DOCS)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == DOCS


def test_another_origin_gets_no_cors_headers_on_a_real_request(alice, model_settings):
    response = alice.client.post(
        SUBMIT, {"action": "summarize", "input": {"markdown": "Un texte."}}, format="json", HTTP_ORIGIN=OTHER
    )
    # The server still answers (CORS is the browser's rule); the browser will not show it to the page.
    assert response.status_code == 202
    assert cors_headers(response) == {}
    assert Job.objects.count() == 1


def test_only_the_api_is_open_to_other_origins(client):
    response = client.get("/health/live", HTTP_ORIGIN=DOCS)
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []
    assert cors_headers(preflight(client, SUBMIT, DOCS, "POST")) == {}


def test_the_origins_come_from_the_environment(monkeypatch):
    loaded = settings_from(monkeypatch, SUITE_AI_CORS_ALLOWED_ORIGINS=f" {DOCS} ,http://localhost:3000,")
    assert loaded["CORS_ALLOWED_ORIGINS"] == [DOCS, "http://localhost:3000"]
