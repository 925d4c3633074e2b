"""Checked at submission (issue 13): an input over the token limit is refused there, counted with
the offline tokenizer, and so is a submission over the day's token quota of its user or document
(429 quota_exceeded, with when it resets); /api/v1.0/usage/ reports the quotas."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs.models import Job, ModelCall
from suite_ai.llm.tokens import count_tokens
from tests.jobs.test_api_validation import assert_error

pytestmark = pytest.mark.django_db


def spend(sub: str, tokens: int, document_id: uuid.UUID | None = None, days_ago: int = 0) -> None:
    """Model calls in the ledger, as a worker records them."""
    owner = User.objects.get(sub=sub)
    document = document_id or uuid.uuid4()
    job = Job.objects.create(owner=owner, document_id=document, action="summarize", input_hash="-", status="succeeded")
    call = ModelCall.objects.create(
        job=job, owner=owner, document_id=document, model="m", prompt_tokens=tokens - tokens // 4,
        completion_tokens=tokens // 4,
    )  # fmt: skip
    if days_ago:
        ModelCall.objects.filter(id=call.id).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def next_midnight_utc() -> dt.datetime:
    now = timezone.now().astimezone(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)


def test_an_input_over_the_token_limit_is_refused_at_submission(alice, model_settings):
    model_settings.SUITE_AI_MAX_INPUT_TOKENS = 300
    # Digits: about a token each, where prose has four or five characters per token.
    text = " ".join(str(n) for n in range(1000, 1100))
    assert count_tokens(text) > 300
    body = assert_error(alice.submit("summarize", input={"markdown": text}), 413, "input_too_large")
    assert body["limit_tokens"] == 300 and body["tokens"] > 300
    blocks = [{"type": "paragraph", "content": text}]
    assert_error(alice.submit("summarize", input={"blocks": blocks}), 413, "input_too_large")
    assert Job.objects.count() == 0
    # Under the limit: accepted, and the job reserves what it reads.
    accepted = alice.submit("summarize", input={"markdown": "Un texte court."})
    assert accepted.status_code == 202
    assert Job.objects.get(id=accepted.json()["id"]).reserved_tokens > 0


def test_a_user_over_the_days_quota_gets_429_with_when_it_resets(alice, bob, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_USER = 1000
    spend("alice", 600, days_ago=1)  # yesterday's calls do not count
    spend("alice", 1000)
    response = alice.submit("summarize", input={"markdown": "Un texte."})
    body = assert_error(response, 429, "quota_exceeded")
    assert (body["scope"], body["used"], body["limit"], body["remaining"]) == ("user", 1000, 1000, 0)
    resets_at = dt.datetime.fromisoformat(body["resets_at"].replace("Z", "+00:00"))
    assert resets_at == next_midnight_utc()
    assert 0 < int(response["Retry-After"]) <= 86400
    assert Job.objects.filter(owner__sub="alice").count() == 2  # the two of the ledger only
    # Another user's quota is their own.
    assert bob.submit("summarize", input={"markdown": "Un texte."}).status_code == 202


def test_unfinished_jobs_reserve_their_input_so_a_burst_cannot_pass_the_quota(alice, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_USER = 400
    text = "La commission a adopté le budget à l'unanimité après un long débat. " * 12  # ~ 180 tokens
    statuses = [alice.submit("rephrase", input={"markdown": text}).status_code for _ in range(5)]
    assert statuses == [202, 202, 429, 429, 429]
    # A job that ends gives its reservation back (its calls count instead, here none).
    Job.objects.filter(owner__sub="alice").update(status="cancelled")
    assert alice.submit("rephrase", input={"markdown": text}).status_code == 202


def test_a_documents_quota_counts_every_users_calls_on_it(alice, bob, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_DOCUMENT = 500
    document = uuid.uuid4()
    spend("bob", 500, document)
    body = assert_error(alice.submit("summarize", document, input={"markdown": "Texte."}), 429, "quota_exceeded")
    assert (body["scope"], body["used"], body["limit"]) == ("document", 500, 500)
    assert alice.submit("summarize", input={"markdown": "Texte."}).status_code == 202  # another document


def test_an_idempotent_replay_is_not_refused_by_the_quota(alice, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_USER = 100
    document = uuid.uuid4()
    first = alice.submit("summarize", document, input={"markdown": "Texte."}, idempotency_key="k1")
    assert first.status_code == 202
    spend("alice", 100)
    again = alice.submit("summarize", document, input={"markdown": "Texte."}, idempotency_key="k1")
    assert again.status_code == 202, again.content
    assert again.json()["id"] == first.json()["id"]


def test_the_refusal_is_in_french_for_a_french_reader(alice, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_USER = 10
    spend("alice", 10)
    response = alice.client.post(
        f"/api/v1.0/documents/{uuid.uuid4()}/actions/",
        {"action": "summarize", "input": {"markdown": "Texte."}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert_error(response, 429, "quota_exceeded")
    assert "quota" in response.json()["message"] and "jetons" in response.json()["message"]


def test_usage_reports_the_quotas_of_the_caller_and_of_a_document(alice, model_settings):
    model_settings.SUITE_AI_DAILY_TOKENS_PER_USER = 5000
    document = uuid.uuid4()
    spend("alice", 1200, document)
    report = alice.client.get("/api/v1.0/usage/", {"document": str(document)}).json()
    assert report["quota"]["user"]["used"] == 1200
    assert report["quota"]["user"]["limit"] == 5000 and report["quota"]["user"]["remaining"] == 3800
    assert report["quota"]["user"]["resets_at"] == next_midnight_utc().isoformat().replace("+00:00", "Z")
    # No per-document quota configured: what was used, and no limit.
    assert report["quota"]["document"]["used"] == 1200 and report["quota"]["document"]["limit"] is None
    without = alice.client.get("/api/v1.0/usage/").json()
    assert "document" not in without["quota"]
