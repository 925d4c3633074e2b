"""The gateway against the fake Mistral over real HTTP, through the official SDK."""

from __future__ import annotations

import threading

import pytest

from suite_ai.llm.errors import ModelError, retry_delay
from suite_ai.llm.gateway import Gateway, get_gateway
from tests.fakes.mistral_server import Behaviour, reply_for

SOURCE = "Le conseil a voté le budget primitif à l'unanimité des membres présents."
MESSAGES = [{"role": "system", "content": "Résume."}, {"role": "user", "content": SOURCE}]


def test_streams_deltas_and_reports_usage_latency_and_time_to_first_token(gateway, fake_model):
    fake_model.configure(latency=0.1, chunk_delay=0.02, chunks=4)
    deltas: list[str] = []
    result = gateway.stream_chat(MESSAGES, model="mistral-small-latest", on_delta=deltas.append)
    assert result.text == reply_for(SOURCE) == "".join(deltas)
    assert len(deltas) == 4  # streamed in pieces, not in one block
    assert result.finish_reason == "stop"
    assert result.prompt_tokens > 0 and result.completion_tokens > 0 and not result.usage_estimated
    assert 100 <= result.ttft_ms < result.latency_ms  # the first delta came after the latency, before the end
    assert result.latency_ms >= 100 + 3 * 20
    request = fake_model.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {fake_model.api_key}"
    assert request["body"]["stream"] is True and request["body"]["model"] == "mistral-small-latest"
    assert request["body"]["messages"] == MESSAGES and request["body"]["temperature"] == 0.2


def test_streamed_calls_reuse_their_connection(gateway, fake_model):
    for _ in range(5):
        gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert len({r["peer"] for r in fake_model.requests}) == 1  # no new TCP/TLS connection per call


def test_threads_are_dealt_over_small_pools_that_keep_their_connections(settings_for, fake_model):
    gateway = Gateway(settings_for(max_connections=32))
    transport = gateway.transport
    assert len(transport.shards) == 4  # 8 connections each: a pool's walk touches a few at most
    shard_of: dict[str, int] = {}
    barrier = threading.Barrier(8)

    def calls(index: int) -> None:
        barrier.wait()  # all eight at once
        for _ in range(3):
            gateway.stream_chat([{"role": "user", "content": f"Fil {index}."}], model="m", on_delta=lambda text: None)
        shard_of[f"Fil {index}."] = transport.shards.index(transport.shard())

    threads = [threading.Thread(target=calls, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gateway.close()
    assert sorted(shard_of.values()) == [0, 0, 1, 1, 2, 2, 3, 3]  # dealt in turn, two threads a pool
    peers_of_shard: dict[int, set[str]] = {}
    for request in fake_model.requests:
        shard = shard_of[request["body"]["messages"][0]["content"]]
        peers_of_shard.setdefault(shard, set()).add(request["peer"])
    assert len(fake_model.requests) == 24
    # A pool's connections serve only its threads, and are reused: at most one per thread.
    all_peers = [peer for peers in peers_of_shard.values() for peer in peers]
    assert len(all_peers) == len(set(all_peers)) <= 8


@pytest.mark.parametrize(
    ("behaviour", "code", "retryable", "retry_after"),
    [
        (Behaviour(kind="status", status=429, retry_after=7), "model_rate_limited", True, 7.0),
        (Behaviour(kind="status", status=429), "model_rate_limited", True, None),
        (Behaviour(kind="status", status=500), "model_unavailable", True, None),
        (Behaviour(kind="status", status=503), "model_unavailable", True, None),
        (Behaviour(kind="status", status=504), "model_timeout", True, None),
        (Behaviour(kind="status", status=404), "model_not_found", False, None),
        (Behaviour(kind="status", status=422), "model_bad_request", False, None),
        (Behaviour(kind="status", status=401), "model_auth_failed", False, None),
        (Behaviour(kind="cut"), "model_unavailable", True, None),
        (Behaviour(kind="truncate"), "model_unavailable", True, None),  # ends cleanly, but never said "stop"
        (Behaviour(kind="drop"), "model_unavailable", True, None),
        (Behaviour(kind="stream_error"), "model_bad_response", True, None),
        (Behaviour(kind="invalid_json"), "model_bad_response", True, None),
        (Behaviour(kind="context_length"), "input_too_large", False, None),
    ],
)
def test_stream_errors_are_classified_into_stable_codes(gateway, fake_model, behaviour, code, retryable, retry_after):
    fake_model.configure(chunks=8)
    fake_model.enqueue(behaviour)
    with pytest.raises(ModelError) as caught:
        gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    error = caught.value
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    assert "budget" not in error.message and "Body" not in error.message  # never quotes the document or raw body
    assert len(fake_model.requests) == 1  # the SDK retried nothing: retries are the caller's
    delay = retry_delay(error, attempt=0)
    if not retryable:
        assert delay is None
    elif retry_after is not None:
        assert retry_after <= delay <= retry_after + 1.0  # Retry-After honoured, a little jitter on top
    else:
        assert 1.0 <= delay <= 2.0  # backoff for the first retry


def test_a_truncated_stream_is_detected_even_though_text_arrived(gateway, fake_model):
    fake_model.configure(chunks=10)
    fake_model.fail_next(kind="truncate")
    deltas: list[str] = []
    long_source = [{"role": "user", "content": " ".join(f"mot{i}" for i in range(40))}]
    with pytest.raises(ModelError) as caught:
        gateway.stream_chat(long_source, model="m", on_delta=deltas.append)
    assert deltas, "part of the answer was streamed before the cut"
    assert caught.value.code == "model_unavailable" and caught.value.retryable


def test_a_wrong_key_is_an_auth_failure(settings_for):
    bad = Gateway(settings_for(api_key="wrong"))
    with pytest.raises(ModelError) as caught:
        bad.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable, caught.value.status) == ("model_auth_failed", False, 401)


def test_a_silent_model_times_out(settings_for, fake_model):
    fake_model.fail_next(kind="hang")
    impatient = Gateway(settings_for(timeout_s=0.3))
    with pytest.raises(ModelError) as caught:
        impatient.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable) == ("model_timeout", True)


def test_a_slow_trickle_is_stopped_by_the_deadline(gateway, fake_model):
    fake_model.configure(chunks=20, chunk_delay=0.1)
    with pytest.raises(ModelError) as caught:
        gateway.stream_chat(
            [{"role": "user", "content": " ".join(f"w{i}" for i in range(40))}],
            model="m",
            on_delta=lambda text: None,
            deadline_s=0.35,
        )
    assert caught.value.code == "model_timeout"


def test_a_refused_connection_is_unavailable(settings_for):
    nowhere = Gateway(settings_for(server_url="http://127.0.0.1:9"))
    with pytest.raises(ModelError) as caught:
        nowhere.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert (caught.value.code, caught.value.retryable) == ("model_unavailable", True)


def test_an_exception_in_on_delta_stops_the_stream_and_propagates(gateway, fake_model):
    fake_model.configure(chunks=10, chunk_delay=0.05)

    class Stop(Exception):
        pass

    def on_delta(text: str) -> None:
        raise Stop()

    with pytest.raises(Stop):
        gateway.stream_chat([{"role": "user", "content": "a b c d e f g h i j k l"}], model="m", on_delta=on_delta)


def test_a_gateway_without_stream_usage_gets_an_estimate(gateway, fake_model):
    fake_model.configure(stream_usage=False)
    result = gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert result.usage_estimated and result.prompt_tokens > 0 and result.completion_tokens > 0


def test_fixed_and_random_latency_show_in_the_measures(gateway, fake_model):
    fake_model.configure(latency=0.2)
    fixed = gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None)
    assert fixed.ttft_ms >= 200
    fake_model.configure(latency=0.15, jitter=0.1)
    measured = [gateway.stream_chat(MESSAGES, model="m", on_delta=lambda text: None).ttft_ms for _ in range(6)]
    # Lower bounds only: the fake's latency is a floor, a loaded machine only adds to it.
    assert all(ms >= 50 for ms in measured) and max(measured) - min(measured) >= 10


def test_one_shared_gateway_holds_more_than_200_calls_in_flight(settings_for, fake_model):
    fake_model.configure(latency=1.5)
    shared = get_gateway(settings_for(timeout_s=30.0))
    assert get_gateway(settings_for(timeout_s=30.0)) is shared  # one client per process and configuration
    errors: list[Exception] = []
    results: list[str] = []

    def call() -> None:
        try:
            results.append(shared.stream_chat(MESSAGES, model="m", on_delta=lambda text: None).text)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(230)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 230
    assert fake_model.stats()["max_in_flight"] >= 200
