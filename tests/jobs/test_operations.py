"""Schema, health and metrics: what the people running the service rely on."""

from __future__ import annotations

import re

import pytest

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


def test_health_live_and_ready(client):
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


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
