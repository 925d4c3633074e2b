"""Patches to the generated mistralai SDK that remove per-call work its authors did not need to do.

Each patch replaces one private piece of the SDK (``PATCHES``: what it replaces and why). They
were written against one exact SDK version, ``WRITTEN_FOR``: a private call site can change in
any release, and a patch on a renamed function would silently do nothing, or break the SDK. So
``install`` applies them only when the installed mistralai is that version; with any other, the
stock SDK runs and one warning says so. Each patch has a canary test (tests/llm/test_sdk_speedup.py)
that fails when it is not active or no longer effective: after upgrading the SDK, re-run the
measurement (bench/sdk_bench.py), re-check each patch against the new SDK's code, then move
``WRITTEN_FOR``. The measured effect of each patch is in docs/performance.md.

- ``pydantic_model_cache``: ``utils/serializers.py`` calls ``pydantic.create_model`` for every
  request body and every streamed chunk it decodes: a new model class each time, although the
  class depends only on the arguments. Each distinct set of arguments now builds its class once.
- ``sse_reader``: ``utils/eventstreaming.py`` looks for event boundaries one byte at a time in
  Python; ours finds the same boundary (the leftmost, the SDK's boundaries tried in the SDK's
  order) with one regex search. Parsing an event stays the SDK's ``_parse_event``.
- ``sse_event_dict``: ``_parse_event`` turns each event into a dict with ``dataclasses.asdict``,
  which deep-copies the already parsed JSON only to serialize it again; ours builds the same dict
  without the copy.
- ``unset_copies``: every optional field of the SDK's models defaults to ``UNSET``, a stateless
  model that pydantic deep-copies for each field of each object it validates; a copy of it is now
  itself.
- ``lazy_names``: the ``models``, ``utils`` and ``errors`` packages resolve every name through a
  module ``__getattr__`` that imports on each access and never keeps the result; the first lookup
  of a name now stores it in the package, where later lookups find it without the hook.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import logging
import re
import sys
import threading
import types
import typing
from collections.abc import AsyncGenerator, Callable, Generator, Hashable
from typing import Any

import pydantic

logger = logging.getLogger(__name__)

WRITTEN_FOR = "3.7.0"  # the mistralai release whose private code these patches were checked against
_MISSING = object()


def sdk_version() -> str | None:
    try:
        return importlib.metadata.version("mistralai")
    except importlib.metadata.PackageNotFoundError:
        return None


# --- pydantic_model_cache ---------------------------------------------------------------------------

_MAX_CACHED_MODELS = 4096  # the SDK has a few hundred types: a bound that only a leak would reach
_models: dict[Hashable, Any] = {}
_models_lock = threading.Lock()


def _cached_create_model(name: str, /, **arguments: Any) -> Any:
    # pydantic names the class's module after its caller's: the SDK's module, as without the cache.
    arguments.setdefault("__module__", sys._getframe(1).f_globals["__name__"])
    # Every argument is in the key (a ConfigDict, a dict, by its items, in the order given: the
    # same settings in another order only miss the cache). Built on every chunk, so kept flat.
    key = (name, *[(k, tuple(v.items()) if isinstance(v, dict) else v) for k, v in arguments.items()])
    try:
        model = _models.get(key)
    except TypeError:  # an unhashable annotation or setting: not cached
        return pydantic.create_model(name, **arguments)
    if model is None:
        model = pydantic.create_model(name, **arguments)
        with _models_lock:
            if len(_models) < _MAX_CACHED_MODELS:
                model = _models.setdefault(key, model)  # racing threads end up sharing one class
    return model


# --- type_hints_cache ------------------------------------------------------------------------------


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


# --- sse_reader ---------------------------------------------------------------------------------------


@functools.cache
def _boundary_pattern() -> re.Pattern[bytes]:
    from mistralai.client.utils import eventstreaming

    # Alternation order matters: at one position the SDK takes the first boundary of its list that fits.
    return re.compile(b"|".join(re.escape(b) for b in eventstreaming.MESSAGE_BOUNDARIES))


class _EventParser:
    """The SDK's stream state (buffer, position, last event id) fed one network chunk at a time."""

    def __init__(self, decoder: Callable[[str], Any], sentinel: str | None, data_required: bool) -> None:
        from mistralai.client.utils import eventstreaming

        self._sdk = eventstreaming
        self._boundary = _boundary_pattern()
        self.decoder, self.sentinel, self.data_required = decoder, sentinel, data_required
        self.buffer = bytearray()
        self.event_id: str | None = None
        self.done = False

    def _parse(self, block: bytearray) -> Any:
        event, discard, self.event_id = self._sdk._parse_event(
            raw=block,
            decoder=self.decoder,
            sentinel=self.sentinel,
            event_id=self.event_id,
            data_required=self.data_required,
        )
        self.done = discard
        return event

    def feed(self, chunk: bytes) -> list[Any]:
        if not self.buffer and chunk.startswith(self._sdk.UTF8_BOM):
            chunk = chunk[len(self._sdk.UTF8_BOM) :]
        # A boundary may straddle two chunks: look again from just before the new bytes.
        search_from = max(0, len(self.buffer) - self._sdk.MAX_BOUNDARY_LEN + 1)
        self.buffer += chunk
        events, position = [], 0
        while not self.done and (found := self._boundary.search(self.buffer, max(position, search_from))):
            event = self._parse(self.buffer[position : found.start()])
            position = found.end()
            if event is not None:
                events.append(event)
        del self.buffer[:position]
        return events

    def finish(self) -> Any:
        return None if self.done else self._parse(self.buffer)


def stream_events(
    response: Any, decoder: Callable[[str], Any], sentinel: str | None = None, data_required: bool = True
) -> Generator[Any, None, None]:
    """What the SDK's ``eventstreaming.stream_events`` yields, for the same bytes however cut."""
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


async def stream_events_async(
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


# --- sse_event_dict -----------------------------------------------------------------------------------


def event_dict(event: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` of the SDK's ``ServerEvent``, without deep-copying its parsed data."""
    return {"id": event.id, "event": event.event, "data": event.data, "retry": event.retry}


# --- unset_copies --------------------------------------------------------------------------------------


def _same(self: Any, memo: Any = None) -> Any:
    return self


# --- lazy_names ------------------------------------------------------------------------------------------

# Names our hook stored in each package, so that reverting the patch leaves the package as it was.
_remembered: dict[str, set[str]] = {}


def _remembering_getattr(package: types.ModuleType, resolve: Callable[[str], Any]) -> Callable[[str], Any]:
    stored = _remembered.setdefault(package.__name__, set())

    def __getattr__(name: str) -> Any:
        value = resolve(name)
        setattr(package, name, value)  # the same object each time, so racing threads agree
        stored.add(name)
        return value

    return __getattr__


def _forget_remembered() -> None:
    for name, stored in _remembered.items():
        package = sys.modules[name]
        for attribute in list(stored):
            vars(package).pop(attribute, None)
        stored.clear()


# --- The patches ---------------------------------------------------------------------------------------

Replacement = tuple[Any, str, Any]  # (object, attribute, new value)


@dataclasses.dataclass
class Patch:
    """Attributes of the SDK replaced together; reversible, so that the benchmark can compare."""

    name: str
    replacements: Callable[[], list[Replacement]]
    after_revert: Callable[[], None] | None = None
    _saved: list[tuple[Any, str, Any]] = dataclasses.field(default_factory=list, repr=False)

    def active(self) -> bool:
        return all(vars(target).get(attribute, _MISSING) is new for target, attribute, new in self.replacements())

    def apply(self) -> None:
        """Idempotent: applied again, it keeps the stock values saved the first time."""
        first = not self._saved
        for target, attribute, new in self.replacements():
            if first:
                self._saved.append((target, attribute, vars(target).get(attribute, _MISSING)))
            setattr(target, attribute, new)

    def revert(self) -> None:
        for target, attribute, old in reversed(self._saved):
            if old is _MISSING:
                delattr(target, attribute)
            else:
                setattr(target, attribute, old)
        self._saved.clear()
        if self.after_revert is not None:
            self.after_revert()


# Built on first use, once the version is known to be the one they were written for: a different
# SDK may not even have the private names they refer to.


@functools.cache
def _model_cache() -> list[Replacement]:
    from mistralai.client.utils import serializers

    return [(serializers, "create_model", _cached_create_model)]


@functools.cache
def _type_hints() -> list[Replacement]:
    from mistralai.client.utils import forms, queryparams, url

    return [(module, "get_type_hints", _cached_type_hints) for module in (queryparams, url, forms)]


@functools.cache
def _sse_reader() -> list[Replacement]:
    from mistralai.client.utils import eventstreaming

    return [
        (eventstreaming, "stream_events", stream_events),
        (eventstreaming, "stream_events_async", stream_events_async),
    ]


@functools.cache
def _sse_event_dict() -> list[Replacement]:
    from mistralai.client.utils import eventstreaming

    return [(eventstreaming, "asdict", event_dict)]


@functools.cache
def _unset_copies() -> list[Replacement]:
    from mistralai.client.types.basemodel import Unset

    return [(Unset, "__copy__", _same), (Unset, "__deepcopy__", _same)]


LAZY_PACKAGES = ("mistralai.client.models", "mistralai.client.utils", "mistralai.client.errors")


@functools.cache
def _lazy_names() -> list[Replacement]:
    packages = [importlib.import_module(name) for name in LAZY_PACKAGES]
    return [(package, "__getattr__", _remembering_getattr(package, package.__getattr__)) for package in packages]


PATCHES: tuple[Patch, ...] = (
    Patch("pydantic_model_cache", _model_cache),
    Patch("type_hints_cache", _type_hints),
    Patch("sse_reader", _sse_reader),
    Patch("sse_event_dict", _sse_event_dict),
    Patch("unset_copies", _unset_copies),
    Patch("lazy_names", _lazy_names, after_revert=_forget_remembered),
)
_warned = threading.Event()
_install_lock = threading.Lock()


def patch(name: str) -> Patch:
    return next(p for p in PATCHES if p.name == name)


def install() -> bool:
    """Apply every patch if the installed SDK is the one they were written for; True if applied."""
    version = sdk_version()
    with _install_lock:
        if version != WRITTEN_FOR:
            if not _warned.is_set():
                _warned.set()
                logger.warning(
                    "mistralai %s is installed, the SDK patches were written for %s: running the stock SDK "
                    "(slower streamed calls). See suite_ai/llm/sdk_speedup.py.",
                    version,
                    WRITTEN_FOR,
                )
            return False
        for each in PATCHES:
            each.apply()
        return True


def uninstall() -> None:
    """Back to the stock SDK (tests, benchmarks)."""
    with _install_lock:
        for each in PATCHES:
            each.revert()
