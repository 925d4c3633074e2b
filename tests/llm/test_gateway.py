"""The gateway against a fake Mistral speaking the real wire format, through the official SDK."""

from __future__ import annotations

import threading

import pytest

from suite_ai.llm.errors import ModelError, parse_retry_after
from suite_ai.llm.gateway import Gateway, LLMSettings
from tests.fakes.mistral_server import reply_for

MESSAGES = [{"role": "system", "content": "Résume."}, {"role": "user", "content": "Le conseil a voté le budget."}]


def test_streams_deltas_and_reports_usage_and_timings(gateway, fake_model):
    fake_model.configure(latency=0.05, chunks=4)
    deltas: list[str] = []
    result = gateway.stream_chat(MESSAGES, model="mistral-small-latest", on_delta=deltas.append)
    assert result.text == reply_for("Le conseil a voté le budget.") == "".join(deltas)
    assert len(deltas) > 1  # streamed in pieces, not in one block
    assert result.finish_reason == "stop"
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert result.ttft_ms is not None and result.ttft_ms >= 40
    request = fake_model.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {fake_model.api_key}"
    assert request["body"]["stream"] is True and request["body"]["model"] == "mistral-small-latest"


@pytest.mark.parametrize(
    ("failure", "code", "retryable", "retry_after"),
    [
        ({"status": 429, "retry_after": 7}, "model_rate_limited", True, 7.0),
        ({"status": 429}, "model_rate_limited", True, None),
        ({"status": 500}, "model_unavailable", True, None),
        ({"status": 503}, "model_unavailable", True, None),
        ({"kind": "cut"}, "model_unavailable", True, None),
        ({"kind": "invalid_json"}, "model_bad_response", True, None),
        ({"kind": "context_length", "status": 400}, "input_too_large", False, None),
    ],
)
def test_errors_are_classified_into_stable_codes(gateway, fake_model, failure, code, retryable, retry_after):
    fake_model.fail_next(**failure)
    with pytest.raises(ModelError) as caught:
        gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable, caught.value.retry_after) == (code, retryable, retry_after)
    assert "budget" not in caught.value.message  # messages never quote the document


def test_a_wrong_key_is_an_auth_failure(fake_model):
    bad = Gateway(LLMSettings(api_key="wrong", server_url=fake_model.url))
    with pytest.raises(ModelError) as caught:
        bad.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable) == ("model_auth_failed", False)


def test_a_silent_model_times_out(fake_model):
    fake_model.configure(latency=2.0)
    impatient = Gateway(LLMSettings(api_key=fake_model.api_key, server_url=fake_model.url, timeout_s=0.3))
    with pytest.raises(ModelError) as caught:
        impatient.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable) == ("model_timeout", True)


def test_one_gateway_holds_hundreds_of_calls_in_flight(gateway, fake_model):
    fake_model.configure(latency=1.5)
    errors: list[Exception] = []

    def call() -> None:
        try:
            gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(240)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert fake_model.stats()["max_in_flight"] >= 200


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
