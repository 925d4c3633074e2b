"""Bad input gets a 4xx with a stable code and a message, and creates no job."""

from __future__ import annotations

import uuid

import pytest

from suite_ai.jobs.models import Job

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_unauthenticated_request_is_refused(client):
    response = client.post(f"/api/v1.0/documents/{uuid.uuid4()}/actions/", {}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")
    assert Job.objects.count() == 0


def test_revoked_or_unknown_token_is_refused(client):
    response = client.get("/api/v1.0/jobs/", HTTP_AUTHORIZATION="Bearer sai_not-a-real-token")
    assert_error(response, 401, "authentication_failed")


def test_a_revoked_token_stops_working_at_once(alice):
    from suite_ai.accounts.models import User
    from suite_ai.accounts.services import revoke_api_tokens

    assert alice.client.get("/api/v1.0/jobs/").status_code == 200
    assert revoke_api_tokens(User.objects.get(sub="alice")) == 1
    assert_error(alice.client.get("/api/v1.0/jobs/"), 401, "authentication_failed")


def test_unknown_action(alice, model_settings):
    body = assert_error(alice.submit("poem", input={"markdown": "x"}), 400, "unknown_action")
    assert "summarize" in body["actions"]
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "missing_input"),
        ({"input": {}}, "missing_input"),
        ({"input": {"markdown": "   \n"}}, "empty_input"),
        ({"input": {"markdown": 42}}, "invalid_input"),
        ({"input": "du texte"}, "invalid_input"),
        ({"input": {"markdown": "a", "html": "<p>a</p>"}}, "invalid_input"),
        ({"input": {"markdown": "a", "blocks": []}}, "invalid_input"),
        ({"input": {"markdown": "a", "block_ids": ["x"]}}, "invalid_input"),
    ],
)
def test_missing_empty_or_malformed_input(alice, model_settings, payload, code):
    assert_error(alice.submit("summarize", **payload), 400, code)
    assert Job.objects.count() == 0


def test_input_over_the_limit_is_413_with_the_limit_in_the_message(alice, model_settings, settings):
    settings.SUITE_AI_MAX_INPUT_BYTES = 1000
    body = assert_error(alice.submit("summarize", input={"markdown": "é" * 600}), 413, "input_too_large")
    assert "1000" in body["message"]
    assert body["limit_bytes"] == 1000
    assert Job.objects.count() == 0


def test_request_body_over_the_upload_limit_is_413(alice, model_settings, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = alice.submit("summarize", input={"markdown": "a" * 5000})
    assert_error(response, 413, "input_too_large")


def test_malformed_json(alice):
    response = alice.client.post(
        f"/api/v1.0/documents/{uuid.uuid4()}/actions/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "malformed_json")


def test_body_must_be_an_object(alice):
    response = alice.client.post(f"/api/v1.0/documents/{uuid.uuid4()}/actions/", [1, 2], format="json")
    assert_error(response, 400, "invalid_request")


def test_wrong_types(alice, model_settings):
    body = assert_error(alice.submit("summarize", input={"markdown": "a"}, options="fast"), 400, "invalid_request")
    assert "options" in body["errors"]
    assert_error(alice.submit(["summarize"], input={"markdown": "a"}), 400, "invalid_request")


def test_unknown_top_level_field(alice, model_settings):
    body = assert_error(alice.submit("summarize", input={"markdown": "a"}, priority=1), 400, "unknown_field")
    assert body["fields"] == ["priority"]


def test_unknown_option(alice, model_settings):
    assert_error(alice.submit("summarize", input={"markdown": "a"}, options={"tone": "x"}), 400, "unknown_option")


def test_translate_needs_a_language(alice, model_settings):
    body = assert_error(alice.submit("translate", input={"markdown": "Bonjour"}), 400, "missing_option")
    assert body["option"] == "language"
    assert_error(
        alice.submit("translate", input={"markdown": "Bonjour"}, options={"language": "klingon"}),
        400,
        "invalid_option",
    )
    assert_error(
        alice.submit("translate", input={"markdown": "Bonjour"}, options={"language": 3}), 400, "invalid_option"
    )


def test_custom_needs_an_instruction_of_bounded_length(alice, model_settings):
    assert_error(alice.submit("custom", input={"markdown": "a"}), 400, "missing_option")
    assert_error(
        alice.submit("custom", input={"markdown": "a"}, options={"instruction": "x" * 2001}), 400, "invalid_option"
    )


def test_document_id_must_be_a_uuid(alice, model_settings):
    assert_error(
        alice.submit("summarize", document_id="not-a-uuid", input={"markdown": "a"}), 400, "invalid_document_id"
    )


def test_model_actions_without_a_model_say_what_to_set(alice, settings):
    settings.MISTRAL_API_KEY = None
    body = assert_error(alice.submit("rephrase", input={"markdown": "Texte."}), 400, "model_not_configured")
    assert "MISTRAL_API_KEY" in body["message"]
    assert Job.objects.count() == 0


def test_summarize_without_a_model_runs_the_offline_engine(alice, settings):
    settings.MISTRAL_API_KEY = None
    assert alice.submit("summarize", input={"markdown": "Texte. Autre phrase."}).status_code == 202


def test_idempotency_key_returns_the_same_job_and_conflicts_on_another_payload(alice, model_settings):
    document = uuid.uuid4()
    first = alice.submit("summarize", document, input={"markdown": "Un texte."}, idempotency_key="k-1")
    again = alice.submit("summarize", document, input={"markdown": "Un texte."}, idempotency_key="k-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    conflict = alice.submit("summarize", document, input={"markdown": "Un autre texte."}, idempotency_key="k-1")
    assert_error(conflict, 409, "idempotency_conflict")
    assert Job.objects.count() == 1


def test_idempotency_keys_are_per_owner(alice, bob, model_settings):
    document = uuid.uuid4()
    a = alice.submit("summarize", document, input={"markdown": "Un texte."}, idempotency_key="same")
    b = bob.submit("summarize", document, input={"markdown": "Un texte."}, idempotency_key="same")
    assert a.json()["id"] != b.json()["id"]


def test_idempotency_key_too_long(alice, model_settings):
    response = alice.submit("summarize", input={"markdown": "a"}, idempotency_key="k" * 300)
    assert_error(response, 400, "invalid_idempotency_key")


def test_another_users_job_is_404_for_read_and_cancel(alice, bob, model_settings):
    job_id = alice.submit("summarize", input={"markdown": "Un texte."}).json()["id"]
    assert_error(bob.client.get(f"/api/v1.0/jobs/{job_id}/"), 404, "not_found")
    assert_error(bob.client.post(f"/api/v1.0/jobs/{job_id}/cancel/"), 404, "not_found")
    assert_error(bob.client.get(f"/api/v1.0/jobs/{job_id}/events/"), 404, "not_found")
    assert bob.client.get("/api/v1.0/jobs/").json()["count"] == 0
    assert Job.objects.get(id=job_id).status == "queued"


def test_unknown_job_and_unknown_route_are_json_404(alice):
    assert_error(alice.client.get(f"/api/v1.0/jobs/{uuid.uuid4()}/"), 404, "not_found")
    assert_error(alice.client.get("/api/v1.0/nothing-here/"), 404, "not_found")


def test_list_filters_validate_their_values(alice):
    assert_error(alice.client.get("/api/v1.0/jobs/?status=sleeping"), 400, "invalid_filter")
    assert_error(alice.client.get("/api/v1.0/jobs/?document=abc"), 400, "invalid_document_id")


def test_submission_rate_limit_answers_429_with_retry_after(alice, bob, model_settings, settings):
    settings.SUITE_AI_SUBMIT_RATE = "2/day"
    statuses = [alice.submit("summarize", input={"markdown": f"t{i}"}).status_code for i in range(2)]
    assert statuses == [202, 202]
    response = alice.submit("summarize", input={"markdown": "t3"})
    body = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert body["retry_after"] > 0
    assert Job.objects.count() == 2
    # The limit is per user.
    assert bob.submit("summarize", input={"markdown": "t4"}).status_code == 202
