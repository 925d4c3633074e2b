from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from suite_ai.accounts.services import create_api_token
from tests.fakes.mistral_server import FakeMistralServer
from tests.support.redis_server import RedisServer


class Caller:
    """A user and an API client authenticated as them with a local token."""

    def __init__(self, username: str) -> None:
        self.token = create_api_token(username)
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        self.username = username

    def submit(self, action: str = "summarize", document_id: uuid.UUID | str | None = None, **body: object):
        document = document_id or uuid.uuid4()
        payload = {"action": action, **body}
        headers = {}
        if "idempotency_key" in payload:
            headers["HTTP_IDEMPOTENCY_KEY"] = payload.pop("idempotency_key")
        return self.client.post(f"/api/v1.0/documents/{document}/actions/", payload, format="json", **headers)


@pytest.fixture
def alice(db: None) -> Caller:
    return Caller("alice")


@pytest.fixture
def bob(db: None) -> Caller:
    return Caller("bob")


@pytest.fixture
def model_settings(settings: pytest.FixtureRequest) -> Iterator[object]:
    settings.MISTRAL_API_KEY = "test-key"  # type: ignore[attr-defined]
    yield settings


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def fake_model_server() -> Iterator[FakeMistralServer]:
    with FakeMistralServer() as server:
        yield server


@pytest.fixture
def fake_model(fake_model_server: FakeMistralServer) -> FakeMistralServer:
    fake_model_server.reset(latency=0.05)
    return fake_model_server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of the test's own, to stop and restart: never the machine's."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
