"""Make the mistralai SDK reuse its pydantic (un)marshallers instead of building one per call.

The generated SDK (mistralai 3.x, ``mistralai/client/utils/serializers.py``) calls
``pydantic.create_model`` for every request body and every streamed chunk it decodes: a new
model class each time. Measured in a worker streaming 500 jobs, that was about half of all CPU.
The classes it builds depend only on the target type, so we build each one once. Behaviour is
unchanged (same class, same config); types that cannot be cached fall back to the original.
"""

from __future__ import annotations

import threading
from typing import Any

from mistralai.client.utils import serializers

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


def install() -> None:
    serializers.create_model = _cached_create_model
