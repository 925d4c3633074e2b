"""The browser tests' service: the real web server and worker (tests/e2e's fixtures), with the
playground turned on whatever the database (SUITE_AI_PLAYGROUND is off by default outside the
embedded mode, as in CI's PostgreSQL run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import model_env, worker, worker_factory  # noqa: F401 (fixtures)
from tests.support.processes import start_web


@pytest.fixture
def playground_url(transactional_db, model_env, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    process, url = start_web(tmp_path, **model_env, SUITE_AI_PLAYGROUND="true")
    yield url
    process.stop()
