"""Retry hints, error classification and the engine's configuration (the service's settings
reach it through tests/pipeline/test_model_settings.py)."""

from __future__ import annotations

import random

import pytest

from suite_ai.llm.config import LLMSettings
from suite_ai.llm.engine import plan_for
from suite_ai.llm.errors import (
    ModelError,
    backoff_delay,
    classify_status,
    parse_retry_after,
    retry_delay,
)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    for attempt, (low, high) in enumerate([(1, 2), (2, 4), (4, 8), (8, 16)]):
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > (high - low) / 2  # really jittered
    assert all(150 <= backoff_delay(30, rng=rng) <= 300 for _ in range(50))  # capped


def test_retry_delay_honours_retry_after_and_refuses_permanent_errors():
    rng = random.Random(1)
    throttled = ModelError("model_rate_limited", "busy", retryable=True, retry_after=30)
    assert all(30 <= retry_delay(throttled, 5, rng=rng) <= 31 for _ in range(50))  # a floor, never less
    assert retry_delay(ModelError("model_auth_failed", "no"), 0) is None
    assert 8 <= retry_delay(ModelError("model_unavailable", "down", retryable=True), 3, rng=rng) <= 16


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert classify_status(429, None, retry_after_ms="1500").retry_after == 1.5


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Prompt contains 140000 tokens, too large for model with 131072 maximum context length", "input_too_large"),
        ("This model's maximum context length is 32768 tokens. However, you requested 40000 tokens", "input_too_large"),
        (
            '{"detail": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"}',
            "model_bad_request",
        ),
        ("invalid model parameter", "model_bad_request"),
    ],
)
def test_context_length_errors_are_recognised_from_any_gateway(body, code):
    assert classify_status(400, None, body).code == code


def test_an_error_reads_as_its_code_and_message():
    error = ModelError("model_rate_limited", "busy", retryable=True, retry_after=2.0, status=429)
    assert str(error) == "model_rate_limited: busy"


def test_models_per_action_class_and_context_windows():
    settings = LLMSettings(
        model="small",
        model_long="large",
        action_models={"translate": "translator"},
        context_tokens_by_model={"small": 16_000, "large": 128_000},
    )
    assert settings.model_for("summarize") == "small"
    assert settings.model_for("note") == "large"  # the long model for notes…
    assert settings.model_for("summarize", input_tokens=50_000) == "large"  # …and long inputs
    assert settings.model_for("translate", input_tokens=50_000) == "translator"  # an override wins
    assert settings.context_window("small") == 16_000
    assert settings.context_window("unknown-model") == 32_000
    assert LLMSettings().context_window("mistral-large-latest") == 128_000
    assert LLMSettings(context_tokens=8_192).context_window("mistral-large-latest") == 8_192
    hash(settings)  # frozen and hashable despite its mappings
    with pytest.raises(ValueError, match="/v1"):
        LLMSettings(server_url="https://api.mistral.ai/v1")


def test_chunk_budget_leaves_room_for_the_prompt_and_the_answer():
    settings = LLMSettings(context_tokens=16_000, chunk_tokens=12_000)
    assert settings.chunk_budget("any", "summarize") < 16_000 - 4_096  # room for a summary
    assert settings.chunk_budget("any", "translate") <= 8_000  # a translation is as long as its input
    assert LLMSettings(chunk_tokens=8_000).chunk_budget("mistral-small-latest", "summarize") == 8_000
    plan = plan_for(LLMSettings(map_concurrency=4), "note", attempt=3)
    assert (plan.model, plan.max_parallel, plan.attempt) == ("mistral-large-latest", 4, 3)
