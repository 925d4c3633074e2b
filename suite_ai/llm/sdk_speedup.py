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
"""

from __future__ import annotations

import functools
import threading
import typing
from typing import Any

from mistralai.client.utils import forms, queryparams, serializers, url

_original_create_model = serializers.create_model
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


def install() -> None:
    serializers.create_model = _cached_create_model
    for module in (queryparams, url, forms):
        module.get_type_hints = _cached_type_hints  # type: ignore[attr-defined]
