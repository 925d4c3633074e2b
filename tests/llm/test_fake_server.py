"""The fake Mistral itself: wire format, scripting, records, and a thousand slow requests at once."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import httpx2
import pytest

from tests.fakes.mistral_server import Behaviour, FakeMistralServer, reply_for


def post(model: FakeMistralServer, content: str, *, stream: bool = False, key: str | None = None) -> httpx2.Response:
    return httpx2.post(
        f"{model.url}/v1/chat/completions",
        json={"model": "mistral-small-latest", "stream": stream, "messages": [{"role": "user", "content": content}]},
        headers={"Authorization": f"Bearer {key or model.api_key}"},
        timeout=10,
    )


def sse_events(response: httpx2.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.text.split("\n\n") if line.startswith("data: ")]


def test_streams_exactly_as_mistral_role_content_final_usage_done(fake_model):
    response = post(fake_model, "Le conseil municipal a voté le budget annuel", stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["total_tokens"] > 0
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert (
        text
        == reply_for("Le conseil municipal a voté le budget annuel")
        == "LE CONSEIL MUNICIPAL ANNUEL BUDGET LE VOTÉ A"
    )
    assert all({"id", "model", "choices"} <= set(c) for c in chunks)


def test_json_answer_and_model_list(fake_model):
    body = post(fake_model, "Bonjour à tous").json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "BONJOUR À TOUS"
    assert {"id", "created", "model", "usage"} <= set(body)
    models = httpx2.get(f"{fake_model.url}/v1/models", headers={"Authorization": f"Bearer {fake_model.api_key}"})
    assert models.json()["data"][0]["id"] == "mistral-small-latest"


def test_requires_the_api_key_and_records_every_request(fake_model):
    assert post(fake_model, "x", key="wrong").status_code == 401
    assert post(fake_model, "y").status_code == 200
    first, second = fake_model.requests
    assert first["status"] == 401 and second["status"] == 200
    assert second["headers"]["Authorization"] == f"Bearer {fake_model.api_key}"
    assert second["body"]["messages"][0]["content"] == "y"
    assert second["at"] <= second["ended"] and second["wall"] > 1.7e9


def test_scripts_by_marker_queue_and_inline_markers(fake_model):
    fake_model.when("ALPHA", Behaviour(kind="status", status=503), times=1)
    fake_model.fail_next(status=429, retry_after=3)
    fake_model.enqueue(Behaviour(reply="fixé"))
    assert post(fake_model, "ALPHA").status_code == 503  # the marker rule wins over the queue
    assert post(fake_model, "ALPHA").status_code == 429  # the rule is used up; the queue answers
    rate_limited = fake_model.requests[-1]
    assert rate_limited["status"] == 429
    assert post(fake_model, "z").json()["choices"][0]["message"]["content"] == "fixé"
    assert post(fake_model, "z [[fail:500]]").status_code == 500
    assert post(fake_model, "[[reply:exact]]").json()["choices"][0]["message"]["content"] == "exact"
    error = post(fake_model, "[[fail:context_length]]")
    assert error.status_code == 400 and "maximum context length" in error.json()["message"]
    assert fake_model.stats()["statuses"] == {503: 1, 429: 1, 200: 2, 500: 1, 400: 1}


def test_retry_after_header_only_when_asked(fake_model):
    fake_model.fail_next(status=429, retry_after=2)
    fake_model.fail_next(status=429)
    assert post(fake_model, "a").headers.get("retry-after") == "2"
    assert "retry-after" not in post(fake_model, "b").headers


def test_cut_and_truncated_streams_never_send_a_finish_reason(fake_model):
    fake_model.configure(chunks=10)
    fake_model.fail_next(kind="truncate")
    events = sse_events(post(fake_model, " ".join(f"mot{i}" for i in range(30)), stream=True))
    assert "[DONE]" not in events and 1 < len(events) < 10
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in events)
    fake_model.fail_next(kind="cut")
    with pytest.raises(httpx2.RemoteProtocolError):
        post(fake_model, " ".join(f"mot{i}" for i in range(30)), stream=True)


def test_fixed_and_random_latency(fake_model):
    fake_model.configure(latency=0.2)
    started = time.monotonic()
    post(fake_model, "a")
    assert time.monotonic() - started >= 0.2
    fake_model.configure(latency=0.15, jitter=0.1)
    durations = []
    for i in range(8):
        post(fake_model, f"b{i}")
        request = fake_model.requests[-1]
        durations.append(request["ended"] - request["at"])
    assert all(0.05 <= d < 0.4 for d in durations)
    assert max(durations) - min(durations) > 0.02  # really random, not fixed


def test_holds_a_thousand_slow_requests_at_once(fake_model):
    fake_model.configure(latency=3.0)  # long enough for all 1,000 to be in flight together on a busy machine

    async def burst() -> list[int]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(i: int) -> int:
                async with session.post(
                    f"{fake_model.url}/v1/chat/completions",
                    json={"model": "m", "stream": i % 2 == 0, "messages": [{"role": "user", "content": f"t{i}"}]},
                    headers={"Authorization": f"Bearer {fake_model.api_key}"},
                ) as response:
                    await response.read()
                    return response.status

            return await asyncio.gather(*(one(i) for i in range(1000)))

    statuses = asyncio.run(burst())
    assert statuses == [200] * 1000
    assert fake_model.stats()["max_in_flight"] == 1000
    assert fake_model.in_flight == 0


def test_stats_over_http_for_a_benchmark_in_another_process(fake_model):
    fake_model.configure(latency=0.0)
    post(fake_model, "Un texte.")
    post(fake_model, "Un autre [[fail:503]]")
    stats = httpx2.get(f"{fake_model.url}/_stats", timeout=5).json()
    assert stats["requests"] == 2 and stats["statuses"] == {"200": 1, "503": 1} and stats["max_in_flight"] == 1
    reset = httpx2.post(f"{fake_model.url}/_stats/reset", timeout=5).json()
    assert reset["requests"] == 0 and reset["statuses"] == {} and fake_model.requests == []
