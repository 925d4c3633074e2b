"""`make test`'s preflight (tests/preflight.py), run as make runs it: a fresh process, its exit status, its stderr."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PREFLIGHT = Path(__file__).resolve().parent / "preflight.py"
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")


def run_preflight(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(overrides)
    return subprocess.run(
        [sys.executable, str(PREFLIGHT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def closed_loopback_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def path_without_node(tmp_path: Path) -> str:
    """PATH with every directory that holds a ``node`` replaced by nothing (python is called by full path)."""
    directories = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "node").exists()]
    empty = tmp_path / "bin"
    empty.mkdir()
    return os.pathsep.join([str(empty), *directories])


def test_missing_node_is_named_in_one_line_and_fails(path_without_node: str) -> None:
    result = run_preflight(PATH=path_without_node)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("make test: node is not on PATH")
    assert "Node 20+" in lines[0]


def test_missing_chromium_is_named_in_one_line_and_fails(tmp_path: Path) -> None:
    result = run_preflight(CHROMIUM_PATH=str(tmp_path / "no-chromium"))
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if "Chromium" in line]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(f"make test: {tmp_path / 'no-chromium'} is not an executable Chromium")
    assert "apt-get install chromium" in problems[0]


@needs_node
@pytest.mark.parametrize("variable", ["REDIS_URL", "CELERY_BROKER_URL"])
def test_redis_that_does_not_answer_is_named_and_fails(variable: str) -> None:
    url = f"redis://:hunter2@127.0.0.1:{closed_loopback_port()}/0"
    result = run_preflight(**{variable: url})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"make test: {variable}=redis://:***@127.0.0.1:")
    assert "Redis does not answer" in lines[0]
    assert "hunter2" not in result.stderr


@needs_node
def test_postgres_that_does_not_answer_is_named_and_fails() -> None:
    result = run_preflight(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_loopback_port()}/test")
    assert result.returncode == 1
    assert result.stderr.startswith("make test: DATABASE_URL=postgres://postgres@127.0.0.1:")
    assert "PostgreSQL does not answer" in result.stderr


@needs_node
def test_embedded_defaults_need_no_service() -> None:
    result = run_preflight(DATABASE_URL="sqlite:///ignored.sqlite3", CELERY_BROKER_URL="filesystem://")
    assert (result.returncode, result.stderr) == (0, "")


@needs_node
def test_a_redis_that_answers_passes() -> None:
    """The check is a real PING, not a refusal whatever the URL: a listening Redis passes."""
    url = "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.fail("no Redis on 127.0.0.1:6379: these tests need it (see tests/preflight.py)")
    result = run_preflight(REDIS_URL=url)
    assert (result.returncode, result.stderr) == (0, "")
