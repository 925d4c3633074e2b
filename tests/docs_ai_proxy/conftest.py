from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from suite_ai.accounts.services import create_api_token
from tests.docs_ai_proxy.payloads import SUITE_AI_CLIENT
from tests.fakes.docs_server import FakeDocsServer
from tests.fakes.mistral_server import FakeMistralServer
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
    with FakeDocsServer() as server:
        server.oidc.register_client(*SUITE_AI_CLIENT)
        yield server


@pytest.fixture
def docs_proxy(transactional_db, docs: FakeDocsServer, fake_model: FakeMistralServer, tmp_path: Path) -> Iterator[str]:
    process, url = start_web(
        tmp_path,
        MISTRAL_API_KEY=fake_model.api_key,
        MISTRAL_SERVER_URL=fake_model.url,
        DOCS_BASE_URL=docs.url,
        OIDC_OP_URL=docs.oidc.issuer,
        OIDC_OP_INTROSPECTION_ENDPOINT=docs.oidc.introspection_endpoint,
        OIDC_RS_CLIENT_ID=SUITE_AI_CLIENT[0],
        OIDC_RS_CLIENT_SECRET=SUITE_AI_CLIENT[1],
        OIDC_RS_ALLOWED_AUDIENCES="suite-ai",
        OIDC_VERIFY_SSL="false",
    )
    yield url
    process.stop()
