"""The browser tests' service: the real web server and worker (tests/e2e's fixtures), with the
playground turned on whatever the database (SUITE_AI_PLAYGROUND is off by default outside the
embedded mode, as in CI's PostgreSQL run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import model_env, worker, worker_factory  # noqa: F401 (fixtures)
from tests.fakes.docs_server import FakeDocsServer
from tests.support.docs_stack import docs_settings, fake_docs
from tests.support.processes import start_web


@pytest.fixture
def playground_url(transactional_db, model_env, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    process, url = start_web(tmp_path, **model_env, SUITE_AI_PLAYGROUND="true")
    yield url
    process.stop()


@pytest.fixture
def docs() -> Iterator[FakeDocsServer]:
    with fake_docs() as server:
        yield server


@pytest.fixture
def docs_env(docs: FakeDocsServer, model_env: dict[str, str]) -> dict[str, str]:  # noqa: F811
    return {
        **model_env,
        **docs_settings(docs),
        "SUITE_AI_PLAYGROUND": "true",
    }


@pytest.fixture
def docs_playground_url(transactional_db, docs_env, worker_factory, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    """The playground, its web server and a worker wired to the fake Docs and its OIDC provider."""
    worker_factory(**docs_env)
    process, url = start_web(tmp_path, **docs_env)
    yield url
    process.stop()
