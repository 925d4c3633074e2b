"""A deactivated or deleted account acts through no door, at once; identities the columns cannot
hold are refused with a code (issue 13)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from suite_ai.accounts.authentication import AuthError
from suite_ai.accounts.models import User
from suite_ai.accounts.oidc import InvalidIdentity, upsert_user
from suite_ai.jobs.models import Job
from tests.support.processes import start_web

SERVICE_TOKEN = "docs-backend-service-token"


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.mark.django_db
def test_a_deactivated_users_local_token_is_refused_at_once(alice):
    assert alice.client.get("/api/v1.0/jobs/").status_code == 200  # the token was used (and once cached)
    User.objects.filter(sub="alice").update(is_active=False)
    assert _error(alice.client.get("/api/v1.0/jobs/")) == (403, "account_disabled")
    assert _error(alice.submit("summarize", input={"markdown": "Texte."})) == (403, "account_disabled")
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_a_deactivated_user_cannot_follow_a_jobs_events_with_their_token(alice):
    job_id = alice.submit("summarize", input={"markdown": "Texte."}).json()["id"]
    User.objects.filter(sub="alice").update(is_active=False)
    assert _error(alice.client.get(f"/api/v1.0/jobs/{job_id}/events/")) == (403, "account_disabled")


@pytest.mark.django_db
def test_a_deleted_users_local_token_is_refused_at_once_not_a_500(alice):
    assert alice.client.get("/api/v1.0/jobs/").status_code == 200
    User.objects.filter(sub="alice").delete()
    assert _error(alice.client.get("/api/v1.0/jobs/")) == (401, "authentication_failed")
    assert _error(alice.submit("summarize", input={"markdown": "Texte."})) == (401, "authentication_failed")


@pytest.mark.django_db
def test_upsert_refuses_a_deactivated_user_and_what_the_columns_cannot_hold():
    User.objects.create(sub="gone", is_active=False)
    with pytest.raises(AuthError) as refused:
        upsert_user("gone", "gone@example.org")
    assert (refused.value.status_code, refused.value.stable_code) == (403, "account_disabled")
    for sub, email, field in (
        ("s" * 300, "a@example.org", "sub"),
        ("ok", "e" * 300 + "@example.org", "email"),
        ("nul\x00", "a@example.org", "sub"),
        ("ok", "tab\there@example.org", "email"),
    ):
        with pytest.raises(InvalidIdentity) as invalid:
            upsert_user(sub, email)
        assert invalid.value.field == field
    # A display name is cut, never a reason to refuse.
    assert len(upsert_user("long-name", "n@example.org", "n" * 400).name) == 255


@pytest.fixture
def service_web(transactional_db, tmp_path: Path) -> Iterator[str]:
    process, url = start_web(tmp_path, SUITE_AI_SERVICE_TOKENS=SERVICE_TOKEN)
    yield url
    process.stop()


def _service(url: str, sub: str, email: str, method: str = "GET", **kwargs) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {SERVICE_TOKEN}",
        "X-Suite-AI-User-Sub": sub,
        "X-Suite-AI-User-Email": email,
    }
    return httpx.request(method, f"{url}/api/v1.0/jobs/", headers=headers, timeout=30, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_service_tokens_do_not_act_for_deactivated_users_or_impossible_identities(service_web):
    assert _service(service_web, "agent", "agent@example.org").status_code == 200
    User.objects.filter(sub="agent").update(is_active=False)
    assert _error(_service(service_web, "agent", "agent@example.org")) == (403, "account_disabled")
    submit = httpx.post(
        f"{service_web}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "summarize", "input": {"markdown": "Texte."}},
        headers={
            "Authorization": f"Bearer {SERVICE_TOKEN}",
            "X-Suite-AI-User-Sub": "agent",
            "X-Suite-AI-User-Email": "agent@example.org",
        },
        timeout=30,
    )
    assert _error(submit) == (403, "account_disabled")
    assert Job.objects.count() == 0

    long_sub = _service(service_web, "s" * 300, "agent2@example.org")
    assert _error(long_sub) == (400, "invalid_on_behalf_of")
    assert long_sub.json()["header"] == "X-Suite-AI-User-Sub"
    long_email = _service(service_web, "agent3", "e" * 300 + "@example.org")
    assert _error(long_email) == (400, "invalid_on_behalf_of")
    assert not User.objects.filter(sub__in=["s" * 300, "agent3"]).exists()
