from __future__ import annotations

import pytest

from suite_ai.llm.config import LLMSettings
from suite_ai.llm.engine import MemoryCheckpointStore
from suite_ai.llm.gateway import Gateway

# The session-wide fake Mistral (``fake_model``, reset to a fast well-behaved model before every
# test) comes from tests/conftest.py.


@pytest.fixture
def settings_for(fake_model):
    def make(**overrides: object) -> LLMSettings:
        values: dict[str, object] = {"api_key": fake_model.api_key, "server_url": fake_model.url, "timeout_s": 5.0}
        values.update(overrides)
        return LLMSettings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def gateway(settings_for) -> Gateway:
    gateway = Gateway(settings_for())
    yield gateway
    gateway.close()


@pytest.fixture
def store() -> MemoryCheckpointStore:
    return MemoryCheckpointStore()
