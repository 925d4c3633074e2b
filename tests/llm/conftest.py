from __future__ import annotations

import threading
from typing import Any

import pytest

from suite_ai.llm.gateway import Gateway, LLMSettings


class MemoryStore:
    """A checkpoint store in memory (the job engine's is in the database)."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self._lock = threading.Lock()

    def checkpoint_get(self, key: str) -> str | None:
        return self.saved.get(key)

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None:
        with self._lock:
            self.saved[key] = output


@pytest.fixture
def gateway(fake_model) -> Gateway:
    return Gateway(LLMSettings(api_key=fake_model.api_key, server_url=fake_model.url, timeout_s=5))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()
