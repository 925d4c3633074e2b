"""The SDK speed-ups change nothing the SDK's callers can observe."""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import random

import pytest
from mistralai.client import models
from mistralai.client.types.basemodel import UNSET
from mistralai.client.utils import eventstreaming

from suite_ai.llm import sdk_speedup


class _Response:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.closed = chunks, False

    def iter_bytes(self):
        yield from self.chunks

    def close(self) -> None:
        self.closed = True

    async def aiter_bytes(self):
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def _chunked(payload: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(payload)), k=min(len(payload) - 1, rng.randint(0, 40))))
    return [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]


def _events(function, chunks: list[bytes], sentinel: str | None) -> tuple[list[str], bool]:
    response = _Response(chunks)
    events = list(function(response, decoder=lambda raw: raw, sentinel=sentinel))
    return events, response.closed


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
def test_event_reader_yields_what_the_sdk_reader_yields_however_the_bytes_are_cut(seed, sentinel):
    chunks = _chunked(STREAM, random.Random(seed))
    expected = _events(sdk_speedup.original_stream_events, chunks, sentinel)
    got = _events(sdk_speedup._stream_events, chunks, sentinel)
    assert got == expected
    decoded = [json.loads(event) for event in got[0]]
    assert decoded[0]["data"]["choices"][0]["delta"]["content"] == "Bon"
    assert (decoded[-1]["data"] == {"after": "the sentinel"}) is (sentinel is None)


@pytest.mark.parametrize("seed", range(10))
def test_async_event_reader_yields_what_the_sdk_async_reader_yields(seed):
    async def collect(function, chunks: list[bytes]) -> tuple[list[str], bool]:
        response = _Response(chunks)
        events = [event async for event in function(response, decoder=lambda raw: raw, sentinel="[DONE]")]
        return events, response.closed

    chunks = _chunked(STREAM, random.Random(seed))
    expected = asyncio.run(collect(sdk_speedup.original_stream_events_async, chunks))
    assert asyncio.run(collect(sdk_speedup._stream_events_async, chunks)) == expected
    assert len(expected[0]) == 5 and expected[1]  # data-less "ping" skipped, nothing after [DONE]


def test_event_reader_flushes_a_last_event_without_a_trailing_boundary():
    chunks = [b'data: {"a": 1}\n\n', b'data: {"b": 2}']
    assert _events(sdk_speedup._stream_events, chunks, None) == _events(
        sdk_speedup.original_stream_events, chunks, None
    )
    assert len(_events(sdk_speedup._stream_events, chunks, None)[0]) == 2


def test_the_sdk_uses_the_installed_reader():
    sdk_speedup.install()
    assert eventstreaming.stream_events is sdk_speedup._stream_events


def test_unset_copies_are_the_same_marker_and_models_still_copy():
    sdk_speedup.install()
    assert copy.copy(UNSET) is UNSET and copy.deepcopy(UNSET) is UNSET
    message = models.UserMessage(content="Bonjour")
    clone = message.model_copy(deep=True)
    assert clone == message and clone is not message
    assert clone.model_dump(mode="json") == {"role": "user", "content": "Bonjour"}


@pytest.mark.parametrize("package", sdk_speedup.LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_a_lazy_sdk_name_is_imported_once_then_found_in_its_package(package):
    lazy = package._dynamic_imports  # name → module, relative to the package
    name = next(n for n in sorted(lazy) if n not in vars(package))  # one not looked up yet
    value = getattr(package, name)
    assert vars(package)[name] is value  # kept: the next lookup does not reach __getattr__
    assert value is getattr(importlib.import_module(lazy[name], package.__name__), name)
    assert getattr(package, name) is value
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018 (unknown names still fail)
