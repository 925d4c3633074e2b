from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import ManagedProcess, start_web, start_worker

# Short reliability timings so crash recovery is observable within a test.
RELIABILITY_ENV = {
    "SUITE_AI_HEARTBEAT_INTERVAL": "0.5",
    "SUITE_AI_HEARTBEAT_TIMEOUT": "3",
    "SUITE_AI_RECONCILE_INTERVAL": "0.5",
    "SUITE_AI_QUEUED_REDELIVERY_AFTER": "2",
    "SUITE_AI_EVENT_FLUSH_INTERVAL": "0.05",
}


@pytest.fixture
def model_env(fake_model, settings) -> dict[str, str]:
    settings.MISTRAL_API_KEY = fake_model.api_key
    settings.MISTRAL_SERVER_URL = fake_model.url
    return {"MISTRAL_API_KEY": fake_model.api_key, "MISTRAL_SERVER_URL": fake_model.url, **RELIABILITY_ENV}


@pytest.fixture
def worker_factory(transactional_db, model_env, tmp_path: Path) -> Iterator[Callable[..., ManagedProcess]]:
    started: list[ManagedProcess] = []

    def start(**env: str) -> ManagedProcess:
        process = start_worker(tmp_path, **{**model_env, **env})
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def worker(worker_factory) -> ManagedProcess:
    return worker_factory()


@pytest.fixture
def beat(transactional_db, model_env, tmp_path: Path) -> Iterator[ManagedProcess]:
    import sys

    from tests.support.processes import service_env

    command = [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "beat",
        "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO",
    ]  # fmt: skip
    process = ManagedProcess("beat", command, service_env(**model_env), tmp_path)
    process.wait_for_log("beat: Starting")
    yield process
    process.stop()


@pytest.fixture
def web(transactional_db, model_env, tmp_path: Path) -> Iterator[str]:
    process, url = start_web(tmp_path, **model_env)
    yield url
    process.stop()
