"""The model endpoint for Docs' backend (``/v1/chat/completions``), end to end: a real uvicorn
serving suite_ai, two fake upstreams (``albert`` first, ``mistral`` on failure) speaking
Mistral's wire, and the clients Docs' backend uses, unmodified: the ``openai`` SDK
(``OPENAI_SDK_BASE_URL``), the ``mistralai`` SDK (``MISTRAL_SDK_BASE_URL``) and pydantic-ai's
OpenAI and Mistral models (``ai-proxy``'s path, reference/lasuite-docs.md §4.3)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import openai
import pytest
from mistralai.client import Mistral
from pydantic_ai import Agent
from pydantic_ai.models.mistral import MistralModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.mistral import MistralProvider
from pydantic_ai.providers.openai import OpenAIProvider

from suite_ai.model_endpoint.endpoint import fingerprint
from suite_ai.model_endpoint.models import ServiceModelCall
from tests.fakes.mistral_server import FakeMistralServer, reply_for
from tests.support.processes import start_web
from tests.support.waiting import wait_for

DOCS_TOKEN = "docs-backend-model-token"
OTHER_TOKEN = "another-service-token"
ROUTED = "docs-model"  # albert:albert-large, then mistral:mistral-small-latest
LIMITED = "limited-model"  # mistral:limited-upstream, 1 request per minute
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a term up in the glossary.",
            "parameters": {"type": "object", "properties": {"term": {"type": "string"}}, "required": ["term"]},
        },
    }
]


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeMistralServer, FakeMistralServer]]:
    with FakeMistralServer(api_key="albert-key") as albert, FakeMistralServer(api_key="mistral-key") as mistral:
        yield albert, mistral


@pytest.fixture(scope="module")
def web(upstreams, django_db_setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    albert, mistral = upstreams
    process, url = start_web(
        tmp_path_factory.mktemp("web"),
        SUITE_AI_SERVICE_TOKENS=f"{DOCS_TOKEN},{OTHER_TOKEN}",
        MISTRAL_SERVER_URL=mistral.url,
        MISTRAL_API_KEY=mistral.api_key,
        SUITE_AI_MODEL_UPSTREAMS=f"albert={albert.url}/v1",  # documented with /v1: accepted
        SUITE_AI_MODEL_UPSTREAM_KEYS=f"albert={albert.api_key}",
        SUITE_AI_MODEL_ROUTES=(
            f"{ROUTED}=albert:albert-large|mistral:mistral-small-latest,"
            f"mistral-small-latest=mistral:mistral-small-latest,{LIMITED}=mistral:limited-upstream"
        ),
        SUITE_AI_MODEL_LIMITS="limited-upstream=1/0",
        SUITE_AI_MODEL_ENDPOINT_MAX_WAIT="5",
    )
    yield url
    process.stop()


@pytest.fixture
def albert(upstreams, transactional_db) -> FakeMistralServer:
    upstreams[0].reset()
    return upstreams[0]


@pytest.fixture
def mistral(upstreams, transactional_db) -> FakeMistralServer:
    upstreams[1].reset()
    return upstreams[1]


def openai_client(web: str, token: str = DOCS_TOKEN) -> openai.OpenAI:
    # No retries of its own: each status the endpoint answers is seen as is.
    return openai.OpenAI(base_url=f"{web}/v1", api_key=token, max_retries=0, timeout=30)


def ledger(count: int = 1) -> list[ServiceModelCall]:
    """The ledger's rows once ``count`` are written (after the answer, off the event loop, in any order)."""
    return wait_for(lambda: (rows := list(ServiceModelCall.objects.order_by("id"))) and len(rows) >= count and rows)


# --- The openai SDK (Docs' OPENAI_SDK_BASE_URL) -------------------------------------------------------


def test_openai_sdk_json_and_stream_are_served_by_the_first_upstream(web, albert, mistral):
    text = "Résumer ce paragraphe sur le ciel de Bretagne en été."
    client = openai_client(web)
    answer = client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": text}])
    assert answer.choices[0].message.content == reply_for(text)
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens > 0

    stream = client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": text}], stream=True)
    deltas = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "".join(deltas) == reply_for(text)
    assert len([d for d in deltas if d]) > 1  # streamed, not one block

    # The upstream was called with its own model name and key, never with the service token.
    assert [r["body"]["model"] for r in albert.requests] == ["albert-large", "albert-large"]
    assert {r["headers"]["Authorization"] for r in albert.requests} == {f"Bearer {albert.api_key}"}
    assert mistral.requests == []

    rows = sorted(ledger(2), key=lambda row: row.stream)  # written off the loop, in any order
    assert [(r.service, r.requested_model, r.upstream, r.model, r.status, r.stream) for r in rows] == [
        (fingerprint(DOCS_TOKEN), ROUTED, "albert", "albert-large", 200, False),
        (fingerprint(DOCS_TOKEN), ROUTED, "albert", "albert-large", 200, True),
    ]
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 and not r.usage_estimated for r in rows)
    assert DOCS_TOKEN not in {r.service for r in rows}


@pytest.mark.parametrize("style", ["mistral", "openai"])
def test_openai_sdk_tool_call_round_trip(web, albert, mistral, style):
    albert.configure(tool_call_style=style)
    client = openai_client(web)
    ask = [{"role": "user", "content": 'Define it. [[tool:lookup {"term": "ciel"}]]'}]
    for streaming in (False, True):
        if streaming:
            chunks = list(
                client.chat.completions.create(model=ROUTED, messages=ask, tools=TOOLS, tool_choice="auto", stream=True)
            )
            calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or ()]
            # Passed on whole, one delta per call, whichever way the upstream streamed it.
            assert len(calls) == 1
            call_id, name, arguments = calls[0].id, calls[0].function.name, calls[0].function.arguments
            assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
                "tool_calls"
            ]
        else:
            answer = client.chat.completions.create(model=ROUTED, messages=ask, tools=TOOLS, tool_choice="auto")
            assert answer.choices[0].finish_reason == "tool_calls"
            (call,) = answer.choices[0].message.tool_calls
            call_id, name, arguments = call.id, call.function.name, call.function.arguments
        assert name == "lookup" and json.loads(arguments) == {"term": "ciel"}
        result = "Le ciel est la voûte au-dessus de nos têtes."
        follow_up = [
            *ask,
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            ]},
            {"role": "tool", "tool_call_id": call_id, "content": result},
        ]  # fmt: skip
        final = client.chat.completions.create(model=ROUTED, messages=follow_up, tools=TOOLS)
        assert final.choices[0].message.content == reply_for(result)
    # tools and tool_choice went upstream as the client sent them.
    first = albert.requests[0]["body"]
    assert first["tools"] == TOOLS and first["tool_choice"] == "auto"
    assert len(ledger(4)) == 4


# --- The mistralai SDK (Docs' MISTRAL_SDK_BASE_URL) ---------------------------------------------------


def test_mistralai_sdk_json_stream_and_streamed_tool_calls(web, albert, mistral):
    # An OpenAI-style upstream streams the arguments in fragments, which the mistralai SDK could not
    # read (its ToolCall requires a name in every delta): the endpoint passes each call on whole.
    albert.configure(tool_call_style="openai")
    client = Mistral(api_key=DOCS_TOKEN, server_url=web)
    text = "Corriger les fautes de ce texte administratif, sans rien ajouter."
    answer = client.chat.complete(model=ROUTED, messages=[{"role": "user", "content": text}], stream=False)
    assert answer.choices[0].message.content == reply_for(text)

    with client.chat.stream(model=ROUTED, messages=[{"role": "user", "content": text}]) as events:
        deltas = [event.data.choices[0].delta.content or "" for event in events if event.data.choices]
    assert "".join(str(d) for d in deltas) == reply_for(text)

    ask = [{"role": "user", "content": 'Define it. [[tool:lookup {"term": "mer"}]]'}]
    with client.chat.stream(model=ROUTED, messages=ask, tools=TOOLS, tool_choice="any") as events:
        calls = [
            call for event in events if event.data.choices for call in event.data.choices[0].delta.tool_calls or ()
        ]
    assert len(calls) == 1 and calls[0].function.name == "lookup"
    assert json.loads(str(calls[0].function.arguments)) == {"term": "mer"}
    assert albert.requests[-1]["body"]["tool_choice"] == "any"
    assert sorted(r.stream for r in ledger(3)) == [False, True, True]


# --- pydantic-ai, as Docs' ai-proxy builds its model ------------------------------------------------------


def _glossary_agent(model) -> tuple[Agent, list[str]]:
    looked_up: list[str] = []
    agent = Agent(model)

    @agent.tool_plain
    def lookup(term: str) -> str:
        """Look a term up in the glossary."""
        looked_up.append(term)
        return f"{term}: la voûte au-dessus de nos têtes"

    return agent, looked_up


def test_pydantic_ai_agents_with_openai_and_mistral_models_run_their_tools(web, albert, mistral):
    prompt = 'Define it. [[tool:lookup {"term": "ciel"}]]'
    expected = reply_for("ciel: la voûte au-dessus de nos têtes")

    openai_model = OpenAIChatModel(ROUTED, provider=OpenAIProvider(base_url=f"{web}/v1", api_key=DOCS_TOKEN))
    agent, looked_up = _glossary_agent(openai_model)
    assert agent.run_sync(prompt).output == expected
    assert looked_up == ["ciel"]

    async def streamed_with(agent: Agent) -> str:
        async with agent.run_stream(prompt) as run:
            return await run.get_output()

    assert asyncio.run(streamed_with(agent)) == expected
    assert looked_up == ["ciel", "ciel"]

    # Docs' ai-proxy streams; an OpenAI-style upstream streams tool calls in fragments.
    albert.configure(tool_call_style="openai")
    mistral_model = MistralModel(ROUTED, provider=MistralProvider(api_key=DOCS_TOKEN, base_url=web))
    agent, looked_up = _glossary_agent(mistral_model)
    assert agent.run_sync(prompt).output == expected
    assert asyncio.run(streamed_with(agent)) == expected
    assert looked_up == ["ciel", "ciel"]
    assert len(ledger(8)) == 8  # two calls per run: the tool call, then the answer


# --- Authentication and bad input, in OpenAI's error shape --------------------------------------------------


def test_no_or_a_wrong_token_is_401(web, albert, mistral):
    with pytest.raises(openai.AuthenticationError) as refused:
        openai_client(web, token="not-a-service-token").chat.completions.create(
            model=ROUTED, messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    bare = httpx.post(f"{web}/v1/chat/completions", json={"model": ROUTED, "messages": []}, timeout=10)
    assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
    assert bare.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(f"{web}/v1/models", timeout=10).status_code == 401
    assert albert.requests == [] and mistral.requests == []


def test_bad_requests_are_4xx_in_openai_shape_and_reach_no_upstream(web, albert, mistral):
    headers = {"Authorization": f"Bearer {DOCS_TOKEN}"}

    def post(**kwargs) -> httpx.Response:
        kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        return httpx.post(f"{web}/v1/chat/completions", timeout=10, **kwargs)

    cases = [
        (post(content=b"{not json", headers={"Content-Type": "application/json"}), 400, "invalid_request"),
        (post(json={"messages": [{"role": "user", "content": "x"}]}), 400, "invalid_request"),
        (post(json={"model": ROUTED, "messages": "x"}), 400, "invalid_request"),
        (post(json={"model": ROUTED, "messages": [{"role": "user", "content": "x"}], "stream": "yes"}), 400,
         "invalid_request"),
        (post(json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}), 404, "model_not_found"),
        (post(content=b"x" * 20_000_000), 413, "request_too_large"),
        (httpx.get(f"{web}/v1/chat/completions", headers=headers, timeout=10), 405, "method_not_allowed"),
        (httpx.get(f"{web}/v1/embeddings", headers=headers, timeout=10), 404, "not_found"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
        assert set(response.json()["error"]) >= {"message", "type", "code"}
    with pytest.raises(openai.NotFoundError):
        openai_client(web).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert albert.requests == [] and mistral.requests == []


def test_models_lists_the_routed_names(web, albert, mistral):
    names = {model.id for model in openai_client(web).models.list()}
    assert names == {ROUTED, "mistral-small-latest", LIMITED}


def test_an_upstreams_4xx_is_passed_on(web, albert, mistral):
    albert.fail_next(status=422)
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        openai_client(web).chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    assert refused.value.code == "upstream_rejected_request"
    assert len(albert.requests) == 1 and mistral.requests == []  # the request's fault: no other upstream
    assert [r.status for r in ledger(1)] == [422]


# --- Rate limits, retries, routing ---------------------------------------------------------------------


def test_an_upstream_429_is_retried_after_its_retry_after(web, albert, mistral):
    albert.fail_next(status=429, retry_after=1)
    text = "Reformuler ce texte."
    answer = openai_client(web).chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": text}])
    assert answer.choices[0].message.content == reply_for(text)
    assert [r["status"] for r in albert.requests] == [429, 200]
    # The retry came no sooner than the upstream asked (its own clock, not an assertion on ours).
    assert albert.requests[1]["at"] - albert.requests[0]["ended"] >= 1.0
    assert mistral.requests == []
    (row,) = ledger(1)
    assert (row.upstream, row.attempts, row.status) == ("albert", 2, 200)


def test_an_upstream_down_routes_to_the_next(web, albert, mistral):
    text = "Traduire ce texte en anglais."
    client = openai_client(web)
    for failure in ({"status": 503}, {"kind": "drop"}):
        albert.fail_next(**failure)
        answer = client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": text}])
        assert answer.choices[0].message.content == reply_for(text)
    albert.fail_next(status=429, retry_after=60)  # beyond the wait budget: straight to the next
    stream = client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": text}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == reply_for(text)
    assert [r["body"]["model"] for r in mistral.requests] == ["mistral-small-latest"] * 3
    rows = ledger(3)
    assert [(r.upstream, r.model, r.attempts) for r in rows] == [("mistral", "mistral-small-latest", 2)] * 3


def test_every_upstream_down_is_502_or_503_and_rate_limited_everywhere_is_429(web, albert, mistral):
    client = openai_client(web)
    albert.fail_next(status=500)
    mistral.fail_next(status=503)
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    assert (failed.value.status_code, failed.value.code) == (502, "upstream_error")

    albert.fail_next(kind="drop")
    mistral.fail_next(kind="drop")
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    assert (failed.value.status_code, failed.value.code) == (503, "upstream_unavailable")

    albert.fail_next(status=429, retry_after=30)
    mistral.fail_next(status=429, retry_after=40)
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["retry-after"]) == 40
    assert sorted(r.status for r in ledger(3)) == [429, 502, 503]


def test_the_shared_limiter_holds_calls_to_the_configured_rate(web, albert, mistral):
    # SUITE_AI_MODEL_LIMITS="limited-upstream=1/0": one call a minute, the second waits a minute,
    # more than the endpoint's budget (5 s): 429 with the limiter's wait, and no upstream call.
    client = openai_client(web)
    first = client.chat.completions.create(model=LIMITED, messages=[{"role": "user", "content": "un"}])
    assert first.choices[0].message.content == reply_for("un")
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=LIMITED, messages=[{"role": "user", "content": "deux"}])
    assert int(limited.value.response.headers["retry-after"]) > 5
    assert [r["body"]["model"] for r in mistral.requests] == ["limited-upstream"]
    assert sorted(r.status for r in ledger(2)) == [200, 429]


def test_a_stream_cut_upstream_ends_with_an_error_event(web, albert, mistral):
    albert.fail_next(kind="cut")
    stream = openai_client(web).chat.completions.create(
        model=ROUTED, messages=[{"role": "user", "content": "un deux trois quatre cinq six sept huit"}], stream=True
    )
    with pytest.raises(openai.APIError) as cut:
        for _chunk in stream:
            pass
    assert "cut off" in str(cut.value.message)
    (row,) = ledger(1)
    assert row.status == 502


def test_usage_is_kept_per_calling_service(web, albert, mistral):
    for token in (DOCS_TOKEN, OTHER_TOKEN, OTHER_TOKEN):
        openai_client(web, token).chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    rows = ledger(3)
    assert sorted(r.service for r in rows) == sorted([fingerprint(DOCS_TOKEN)] + [fingerprint(OTHER_TOKEN)] * 2)


def test_the_service_sees_its_usage_in_the_admin(web, albert, mistral, admin_client):
    openai_client(web).chat.completions.create(model=ROUTED, messages=[{"role": "user", "content": "x"}])
    ledger(1)
    page = admin_client.get("/admin/model_endpoint/servicemodelcall/")
    assert page.status_code == 200 and fingerprint(DOCS_TOKEN) in page.content.decode()


def test_calls_waiting_for_their_model_hold_no_web_thread(web, albert, mistral):
    # 64 calls at once, each waiting on a slow model, against a web process of 16 threads
    # (SUITE_AI_WEB_THREADS): all 64 reach the upstream together.
    albert.configure(latency=2.0)
    calls = 64
    texts = [f"Texte numéro {index} à résumer" for index in range(calls)]

    async def all_at_once() -> list[str]:
        client = openai.AsyncOpenAI(base_url=f"{web}/v1", api_key=DOCS_TOKEN, max_retries=0, timeout=60)
        answers = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model=ROUTED, messages=[{"role": "user", "content": text}], stream=index % 2 == 0
                )
                for index, text in enumerate(texts)
            )
        )
        out = []
        for answer in answers:
            if isinstance(answer, openai.AsyncStream):
                out.append("".join([c.choices[0].delta.content or "" async for c in answer if c.choices]))
            else:
                out.append(answer.choices[0].message.content)
        await client.close()
        return out

    results: list[list[str]] = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(all_at_once())))
    runner.start()
    assert albert.wait_for_in_flight(calls, timeout=30), albert.stats()
    runner.join(60)
    assert results == [[reply_for(text) for text in texts]]
    assert len(ledger(calls)) == calls


def test_a_client_leaving_a_stream_stops_the_upstream_call(web, albert, mistral):
    albert.configure(chunk_delay=0.5, chunks=8)
    body = {"model": ROUTED, "stream": True, "messages": [{"role": "user", "content": "un deux trois quatre cinq six"}]}
    headers = {"Authorization": f"Bearer {DOCS_TOKEN}"}
    with httpx.stream("POST", f"{web}/v1/chat/completions", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert first.startswith("data: ")
    # The upstream's connection is closed with the client's: the model stops generating.
    assert wait_for(lambda: albert.requests and albert.requests[0]["ended"] is not None)
    assert albert.requests[0]["status"] == 499
    assert [r.status for r in ledger(1)] == [499]
