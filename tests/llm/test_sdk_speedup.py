"""The SDK patches: applied only to the SDK version they were written for, each one active AND
effective at the SDK's real call site (a canary per patch), and none changing what the SDK's
callers observe.

The canaries compare with the stock SDK (``sdk_speedup.uninstall()``), so that each one is seen
to fail when its patch does nothing. After upgrading mistralai they fail until each patch has been
re-checked against the new SDK and ``WRITTEN_FOR`` moved (see suite_ai/llm/sdk_speedup.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pydantic
import pytest
from mistralai.client import models
from mistralai.client.types.basemodel import UNSET, Unset
from mistralai.client.utils import eventstreaming, serializers
from pydantic._internal._model_construction import ModelMetaclass

from suite_ai.llm import sdk_speedup

MESSAGES = [{"role": "system", "content": "Résume."}, {"role": "user", "content": "Le conseil a voté le budget."}]


@pytest.fixture(autouse=True)
def patched() -> Iterator[None]:
    """Every test starts and ends with the patches installed, as the gateway leaves them."""
    assert sdk_speedup.install()
    yield
    assert sdk_speedup.install()


@pytest.fixture
def stock() -> Iterator[None]:
    sdk_speedup.uninstall()
    yield
    sdk_speedup.install()


def _counting(monkeypatch: pytest.MonkeyPatch, target: Any, attribute: str) -> list[int]:
    """Count the calls that reach ``target.attribute`` (the SDK looks it up at call time)."""
    calls = [0]
    inner = getattr(target, attribute)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return inner(*args, **kwargs)

    monkeypatch.setattr(target, attribute, counted)
    return calls


def _classes_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the pydantic model classes built from now on."""
    built: list[str] = []
    new = ModelMetaclass.__new__

    def counted(mcs: type, name: str, *args: Any, **kwargs: Any) -> Any:
        built.append(name)
        return new(mcs, name, *args, **kwargs)

    monkeypatch.setattr(ModelMetaclass, "__new__", counted)
    return built


def _stream(gateway: Any) -> str:
    deltas: list[str] = []
    result = gateway.stream_chat(MESSAGES, model="m", on_delta=deltas.append)
    assert result.finish_reason == "stop" and result.text == "".join(deltas) != ""
    return result.text


# --- The version gate -----------------------------------------------------------------------------


def test_the_patches_are_written_for_the_installed_sdk_and_all_active():
    # Fails after an upgrade of mistralai: re-check each patch against the new SDK, then move WRITTEN_FOR.
    assert sdk_speedup.sdk_version() == sdk_speedup.WRITTEN_FOR
    assert [patch.name for patch in sdk_speedup.PATCHES if not patch.active()] == []


def test_another_sdk_version_runs_the_stock_sdk_and_warns_once(monkeypatch, caplog, stock):
    stock_reader = eventstreaming.stream_events
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger=sdk_speedup.__name__):
        patch.setattr(sdk_speedup, "sdk_version", lambda: "3.8.0")
        patch.setattr(sdk_speedup, "_warned", threading.Event())
        assert sdk_speedup.install() is False
        assert sdk_speedup.install() is False  # e.g. a second gateway module import: no second warning
        assert [patch.name for patch in sdk_speedup.PATCHES if patch.active()] == []
        assert eventstreaming.stream_events is stock_reader and serializers.create_model is pydantic.create_model
    warnings = [r for r in caplog.records if r.name == sdk_speedup.__name__]
    assert len(warnings) == 1 and "3.8.0" in warnings[0].getMessage() and warnings[0].levelno == logging.WARNING


def test_uninstall_gives_back_the_stock_sdk_and_install_again_the_patches():
    sdk_speedup.uninstall()
    assert "__deepcopy__" not in vars(Unset) and eventstreaming.asdict is dataclasses.asdict
    assert serializers.create_model is pydantic.create_model
    assert sdk_speedup.install()
    assert vars(Unset)["__deepcopy__"] is sdk_speedup._same and eventstreaming.asdict is sdk_speedup.event_dict


# --- pydantic_model_cache -------------------------------------------------------------------------


@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_model_cache_a_warm_streamed_call_builds_no_model_class(gateway, monkeypatch, patch_on):
    if not patch_on:
        sdk_speedup.patch("pydantic_model_cache").revert()
    _stream(gateway)  # warm: the first call of each type builds its class
    built = _classes_built(monkeypatch)
    _stream(gateway)
    if patch_on:
        assert sdk_speedup.patch("pydantic_model_cache").active()
        assert built == []
    else:  # the stock SDK: one class per request body and per chunk, what the patch removes
        assert built.count("Unmarshaller") > 3 and built.count("Marshaller") == 1


def test_model_cache_two_calls_build_one_class_per_distinct_arguments(monkeypatch):
    class Fresh(pydantic.BaseModel):  # a type no earlier call has cached
        text: str

    built = _classes_built(monkeypatch)
    first = serializers.unmarshal_json('{"text": "a"}', Fresh)
    second = serializers.unmarshal_json('{"text": "b"}', Fresh)
    assert (first.text, second.text) == ("a", "b") and built == ["Unmarshaller"]

    def model(**config: Any) -> Any:
        return serializers.create_model("Unmarshaller", body=(Fresh, ...), __config__=pydantic.ConfigDict(**config))

    strict, lax = model(strict=True), model(strict=False)
    assert strict is model(strict=True) and lax is model(strict=False) and strict is not lax
    assert strict.model_config["strict"] is True and lax.model_config["strict"] is False
    with pytest.raises(pydantic.ValidationError):
        strict(body={"text": 1})
    assert lax(body={"text": "1"}).body.text == "1"
    assert model(strict=True, extra="forbid") is not strict  # any setting counts, not only the first
    other_field = serializers.create_model("Unmarshaller", body=(int, ...), __config__=pydantic.ConfigDict(strict=True))
    assert other_field is not strict
    other_name = serializers.create_model("Marshaller", body=(Fresh, ...), __config__=pydantic.ConfigDict(strict=True))
    assert other_name is not strict and other_name.__name__ == "Marshaller"


def test_model_cache_builds_what_pydantic_builds():
    config = pydantic.ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)
    cached = serializers.create_model("Unmarshaller", body=(models.CompletionChunk, ...), __config__=config)
    built = pydantic.create_model("Unmarshaller", body=(models.CompletionChunk, ...), __config__=config)
    assert cached.__module__ == built.__module__ == __name__  # pydantic names the caller's module
    assert cached.model_config == built.model_config
    assert cached.model_json_schema() == built.model_json_schema()


def test_model_cache_does_not_cache_what_it_cannot_key(monkeypatch):
    built = _classes_built(monkeypatch)
    config = pydantic.ConfigDict(title="x", json_schema_extra={"tags": [set()]})  # a set: unhashable
    first = serializers.create_model("M", body=(int, ...), __config__=config)
    second = serializers.create_model("M", body=(int, ...), __config__=config)
    assert first is not second and built == ["M", "M"]
    assert first(body=3).body == 3


# --- type_hints_cache -----------------------------------------------------------------------------


@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_type_hints_a_streamed_call_reads_them_from_the_cache(gateway, patch_on):
    if not patch_on:
        sdk_speedup.patch("type_hints_cache").revert()
    _stream(gateway)
    hits = sdk_speedup._class_type_hints.cache_info().hits
    _stream(gateway)
    served = sdk_speedup._class_type_hints.cache_info().hits - hits
    assert (served > 0) is patch_on  # the SDK's call site (utils/queryparams, url, forms) reached the cache


def test_type_hints_are_the_classes_own():
    import typing

    assert sdk_speedup._cached_type_hints(models.ChatCompletionStreamRequest) == typing.get_type_hints(
        models.ChatCompletionStreamRequest
    )


# --- sse_reader -----------------------------------------------------------------------------------


@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_sse_reader_a_streamed_call_uses_ours(gateway, monkeypatch, patch_on):
    if not patch_on:
        sdk_speedup.patch("sse_reader").revert()
    assert (eventstreaming.stream_events is sdk_speedup.stream_events) is patch_on
    fed = _counting(monkeypatch, sdk_speedup._EventParser, "feed")
    _stream(gateway)
    assert (fed[0] > 0) is patch_on


class _Response:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.closed = chunks, False

    def iter_bytes(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True

    async def aiter_bytes(self) -> Any:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def _chunked(payload: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(payload)), k=min(len(payload) - 1, rng.randint(0, 40))))
    return [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]


def _events(function: Callable[..., Any], chunks: list[bytes], sentinel: str | None) -> tuple[list[str], bool]:
    response = _Response(chunks)
    events = list(function(response, decoder=lambda raw: raw, sentinel=sentinel))
    return events, response.closed


@pytest.fixture(scope="module")
def stock_readers() -> tuple[Callable[..., Any], Callable[..., Any]]:
    reader = sdk_speedup.patch("sse_reader")
    reader.revert()
    readers = (eventstreaming.stream_events, eventstreaming.stream_events_async)
    reader.apply()
    assert readers[0] is not sdk_speedup.stream_events
    return readers


STREAM = b"".join(
    [
        eventstreaming.UTF8_BOM,
        b": keep-alive comment\n\n",
        b'data: {"id": "1", "choices": [{"delta": {"content": "Bon"}}]}\r\n\r\n',
        b"event: ping\n\n",
        b'id: 7\ndata: {"n": 2}\n\n',
        b"data: line one\ndata: line two\r\r",
        b'retry: 1500\ndata: "x"\r\n\r\n',
        b'data: {"choices": [{"delta": {"content": "jour"}}]}\n\n',
        b"data: [DONE]\n\n",
        b'data: {"after": "the sentinel"}\n\n',
    ]
)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("sentinel", ["[DONE]", None])
def test_event_reader_yields_what_the_sdk_reader_yields_however_the_bytes_are_cut(stock_readers, seed, sentinel):
    chunks = _chunked(STREAM, random.Random(seed))
    expected = _events(stock_readers[0], chunks, sentinel)
    got = _events(sdk_speedup.stream_events, chunks, sentinel)
    assert got == expected
    decoded = [json.loads(event) for event in got[0]]
    assert decoded[0]["data"]["choices"][0]["delta"]["content"] == "Bon"
    assert (decoded[-1]["data"] == {"after": "the sentinel"}) is (sentinel is None)


@pytest.mark.parametrize("seed", range(10))
def test_async_event_reader_yields_what_the_sdk_async_reader_yields(stock_readers, seed):
    async def collect(function: Callable[..., Any], chunks: list[bytes]) -> tuple[list[str], bool]:
        response = _Response(chunks)
        events = [event async for event in function(response, decoder=lambda raw: raw, sentinel="[DONE]")]
        return events, response.closed

    chunks = _chunked(STREAM, random.Random(seed))
    expected = asyncio.run(collect(stock_readers[1], chunks))
    assert asyncio.run(collect(sdk_speedup.stream_events_async, chunks)) == expected
    assert len(expected[0]) == 5 and expected[1]  # data-less "ping" skipped, nothing after [DONE]


def test_event_reader_flushes_a_last_event_without_a_trailing_boundary(stock_readers):
    chunks = [b'data: {"a": 1}\n\n', b'data: {"b": 2}']
    assert _events(sdk_speedup.stream_events, chunks, None) == _events(stock_readers[0], chunks, None)
    assert len(_events(sdk_speedup.stream_events, chunks, None)[0]) == 2


# --- sse_event_dict -------------------------------------------------------------------------------


@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_sse_event_dict_a_streamed_call_uses_ours(gateway, monkeypatch, patch_on):
    if not patch_on:
        sdk_speedup.patch("sse_event_dict").revert()
    current = eventstreaming.asdict
    with monkeypatch.context() as patch:  # undone before the patches are installed again
        calls = _counting(patch, eventstreaming, "asdict")
        _stream(gateway)
    assert calls[0] > 0  # the SDK's _parse_event looks ``asdict`` up in its module for each event
    assert (current is sdk_speedup.event_dict) is patch_on


def test_event_dict_is_asdict_without_the_copy():
    event = eventstreaming.ServerEvent(
        id="7", event="message", data={"choices": [{"delta": {"content": "é"}}]}, retry=3
    )
    assert sdk_speedup.event_dict(event) == dataclasses.asdict(event)
    assert sdk_speedup.event_dict(event)["data"] is event.data
    assert sdk_speedup.event_dict(eventstreaming.ServerEvent()) == dataclasses.asdict(eventstreaming.ServerEvent())


# --- unset_copies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_unset_copies_validated_models_hold_the_marker_itself(patch_on):
    if not patch_on:
        sdk_speedup.patch("unset_copies").revert()
    chunk = models.CompletionChunk.model_validate(
        {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": "A"}, "finish_reason": None}]}
    )
    role = chunk.choices[0].delta.role  # an optional field left out: its default, UNSET
    assert isinstance(role, Unset)
    assert (role is UNSET) is patch_on  # the stock SDK deep-copies it for every field of every object


def test_models_still_copy_with_unset_shared():
    message = models.UserMessage(content="Bonjour")
    clone = message.model_copy(deep=True)
    assert clone == message and clone is not message
    assert clone.model_dump(mode="json") == {"role": "user", "content": "Bonjour"}


# --- lazy_names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sdk_speedup.LAZY_PACKAGES)
@pytest.mark.parametrize("patch_on", [True, False], ids=["patched", "stock"])
def test_canary_lazy_names_a_lazy_sdk_name_is_imported_once_then_found_in_its_package(name, patch_on):
    if not patch_on:
        sdk_speedup.patch("lazy_names").revert()
    package = importlib.import_module(name)
    lazy = package._dynamic_imports  # name → module, relative to the package
    attribute = next(n for n in sorted(lazy) if n not in vars(package))  # one not looked up yet
    value = getattr(package, attribute)
    assert value is getattr(importlib.import_module(lazy[attribute], package.__name__), attribute)
    assert (vars(package).get(attribute) is value) is patch_on  # kept: the next lookup skips the hook
    assert getattr(package, attribute) is value
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018 (unknown names still fail)


def test_reverting_lazy_names_forgets_what_it_stored():
    attribute = next(n for n in sorted(models._dynamic_imports) if n not in vars(models))
    getattr(models, attribute)
    assert attribute in vars(models)
    sdk_speedup.patch("lazy_names").revert()
    assert attribute not in vars(models) and getattr(models, attribute) is not None
