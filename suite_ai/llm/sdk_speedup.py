"""Make the mistralai SDK reuse its pydantic (un)marshallers instead of building one per call.

The generated SDK (mistralai 3.x, ``mistralai/client/utils/serializers.py``) calls
``pydantic.create_model`` for every request body and every streamed chunk it decodes: a new
model class each time. Measured in a worker streaming 500 jobs, that was about half of all CPU.
The classes it builds depend only on the target type, so we build each one once. Behaviour is
unchanged (same class, same config); types that cannot be cached fall back to the original.

It also calls ``typing.get_type_hints`` on the request class for every call, to look for query,
path and form parameters (``utils/queryparams.py``, ``url.py``, ``forms.py``): ≈1 ms of CPU per
chat call, a third of the client's cost. A class's type hints never change, so they are cached
per class (the callers only read the returned mapping).

Its Server-Sent Events reader (``utils/eventstreaming.py``) looks for event boundaries one byte
at a time in Python, and turns each event into a dict with ``dataclasses.asdict``, which
deep-copies the already parsed JSON only to serialize it again: together about a third of a
streamed call's CPU. ``_find_boundary`` finds the same boundary (the leftmost position, the
SDK's boundaries tried in the SDK's order) with one regex search, and ``_event_dict`` is the
same mapping without the copy. Event parsing itself stays the SDK's ``_parse_event``.

Every optional field of the SDK's models defaults to ``UNSET``, an empty model that pydantic
deep-copies for each field of each object it validates (≈ 60 copies per streamed chunk). It has
no state, so a copy of it is itself.

Its ``models``, ``utils`` and ``errors`` packages resolve every name through a module
``__getattr__`` that calls ``importlib.import_module`` on each access, and never keeps the result:
about 37 imports per streamed call (a tenth of its time under cProfile). The first lookup of a
name now stores it in the package, where later lookups find it without the hook.
"""

from __future__ import annotations

import functools
import re
import threading
import types
import typing
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import mistralai.client.errors
import mistralai.client.models
import mistralai.client.utils
from mistralai.client.types.basemodel import Unset
from mistralai.client.utils import eventstreaming, forms, queryparams, serializers, url

_original_create_model = serializers.create_model
# Kept for the equivalence tests.
original_stream_events = eventstreaming.stream_events
original_stream_events_async = eventstreaming.stream_events_async
LAZY_PACKAGES = (mistralai.client.models, mistralai.client.utils, mistralai.client.errors)
_cache: dict[tuple[str, Any], Any] = {}
_lock = threading.Lock()


def _cached_create_model(name: str, /, **fields: Any) -> Any:
    body = fields.get("body")
    if set(fields) != {"body", "__config__"} or not isinstance(body, tuple):
        return _original_create_model(name, **fields)
    try:
        key = (name, body[0])
        cached = _cache.get(key)
    except TypeError:  # an unhashable type annotation
        return _original_create_model(name, **fields)
    if cached is None:
        cached = _original_create_model(name, **fields)
        with _lock:
            _cache.setdefault(key, cached)
    return cached


@functools.lru_cache(maxsize=1024)
def _class_type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _cached_type_hints(obj: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    if args or kwargs or not isinstance(obj, type):
        return typing.get_type_hints(obj, *args, **kwargs)
    try:
        return _class_type_hints(obj)
    except TypeError:  # an unhashable class
        return typing.get_type_hints(obj)


# Alternation order matters: at one position the SDK takes the first boundary of its list that fits.
_BOUNDARY = re.compile(b"|".join(re.escape(b) for b in eventstreaming.MESSAGE_BOUNDARIES))


def _find_boundary(buffer: bytearray, start: int) -> tuple[int, int] | None:
    match = _BOUNDARY.search(buffer, start)
    return None if match is None else (match.start(), match.end())


def _event_dict(event: eventstreaming.ServerEvent) -> dict[str, Any]:
    return {"id": event.id, "event": event.event, "data": event.data, "retry": event.retry}


class _EventParser:
    """The SDK's stream state (buffer, position, last event id) fed one network chunk at a time."""

    def __init__(self, decoder: Callable[[str], Any], sentinel: str | None, data_required: bool) -> None:
        self.decoder, self.sentinel, self.data_required = decoder, sentinel, data_required
        self.buffer = bytearray()
        self.event_id: str | None = None
        self.done = False

    def _parse(self, block: bytearray) -> Any:
        event, discard, self.event_id = eventstreaming._parse_event(
            raw=block,
            decoder=self.decoder,
            sentinel=self.sentinel,
            event_id=self.event_id,
            data_required=self.data_required,
        )
        self.done = discard
        return event

    def feed(self, chunk: bytes) -> list[Any]:
        if not self.buffer and chunk.startswith(eventstreaming.UTF8_BOM):
            chunk = chunk[len(eventstreaming.UTF8_BOM) :]
        # A boundary may straddle two chunks: look again from just before the new bytes.
        search_from = max(0, len(self.buffer) - eventstreaming.MAX_BOUNDARY_LEN + 1)
        self.buffer += chunk
        events, position = [], 0
        while not self.done and (found := _find_boundary(self.buffer, max(position, search_from))):
            event = self._parse(self.buffer[position : found[0]])
            position = found[1]
            if event is not None:
                events.append(event)
        del self.buffer[:position]
        return events

    def finish(self) -> Any:
        return None if self.done else self._parse(self.buffer)


def _stream_events(
    response: Any, decoder: Callable[[str], Any], sentinel: str | None = None, data_required: bool = True
) -> Generator[Any, None, None]:
    try:
        parser = _EventParser(decoder, sentinel, data_required)
        for chunk in response.iter_bytes():
            yield from parser.feed(chunk)
            if parser.done:
                return
        last = parser.finish()
        if last is not None:
            yield last
    finally:
        response.close()


async def _stream_events_async(
    response: Any, decoder: Callable[[str], Any], sentinel: str | None = None, data_required: bool = True
) -> AsyncGenerator[Any, None]:
    try:
        parser = _EventParser(decoder, sentinel, data_required)
        async for chunk in response.aiter_bytes():
            for event in parser.feed(chunk):
                yield event
            if parser.done:
                return
        last = parser.finish()
        if last is not None:
            yield last
    finally:
        await response.aclose()


def _same(self: Any, memo: Any = None) -> Any:
    return self


def _remembering_getattr(package: types.ModuleType) -> Callable[[str], Any]:
    resolve = package.__getattr__

    def __getattr__(name: str) -> Any:
        value = resolve(name)
        setattr(package, name, value)  # the same object each time, so racing threads agree
        return value

    __getattr__.remembers = True  # type: ignore[attr-defined]
    return __getattr__


def install() -> None:
    serializers.create_model = _cached_create_model
    for module in (queryparams, url, forms):
        module.get_type_hints = _cached_type_hints  # type: ignore[attr-defined]
    Unset.__copy__ = _same  # type: ignore[method-assign]
    Unset.__deepcopy__ = _same  # type: ignore[method-assign]
    eventstreaming.asdict = _event_dict  # type: ignore[assignment]
    eventstreaming.stream_events = _stream_events
    eventstreaming.stream_events_async = _stream_events_async
    for package in LAZY_PACKAGES:
        if not getattr(package.__getattr__, "remembers", False):
            package.__getattr__ = _remembering_getattr(package)  # type: ignore[method-assign]
