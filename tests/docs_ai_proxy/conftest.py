from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from suite_ai.accounts.services import create_api_token
from tests.fakes.docs_server import FakeDocsServer
from tests.fakes.mistral_server import FakeMistralServer
from tests.support.docs_stack import docs_settings, fake_docs
from tests.support.processes import start_web


@pytest.fixture
def proxy(transactional_db, fake_model: FakeMistralServer, tmp_path: Path) -> Iterator[str]:
    """suite_ai with no Docs configured: a local token is enough (the development mode)."""
    process, url = start_web(
        tmp_path,
        MISTRAL_API_KEY=fake_model.api_key,
        MISTRAL_SERVER_URL=fake_model.url,
        SUITE_AI_PROXY_MAX_BODY_BYTES="65536",
    )
    yield url
    process.stop()


@pytest.fixture
def token(transactional_db) -> str:
    return create_api_token("alice")


@pytest.fixture
def docs() -> Iterator[FakeDocsServer]:
    with fake_docs() as server:
        yield server


@pytest.fixture
def docs_proxy(transactional_db, docs: FakeDocsServer, fake_model: FakeMistralServer, tmp_path: Path) -> Iterator[str]:
    process, url = start_web(
        tmp_path,
        MISTRAL_API_KEY=fake_model.api_key,
        MISTRAL_SERVER_URL=fake_model.url,
        **docs_settings(docs),
    )
    yield url
    process.stop()
