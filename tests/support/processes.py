"""Real processes for end-to-end tests: Celery workers and an ASGI web server, started against
the test database, as the service runs in production (no eager mode)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes that must share it."""
    params: dict[str, Any] = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, marker: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not log {marker!r}:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: what a crashed machine looks like to the others."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def service_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def start_worker(log_dir: Path, concurrency: int = 16, **env: str) -> ManagedProcess:
    command = [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "worker",
        "--pool", "threads", "--concurrency", str(concurrency), "--queues", "suite_ai",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        "--hostname", f"test-{time.monotonic_ns()}@localhost",
    ]  # fmt: skip
    worker = ManagedProcess("worker", command, service_env(**env), log_dir)
    worker.wait_for_log(" ready.")
    return worker


def start_web(log_dir: Path, **env: str) -> tuple[ManagedProcess, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "suite_ai.asgi:application",
        "--http", "suite_ai.web_server:LimitedHttpToolsProtocol",  # as serve, the image and compose run it
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    web = ManagedProcess("web", command, service_env(**env), log_dir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return web, url
        except httpx.HTTPError:
            pass
        if web.process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"web server did not start:\n{web.log()[-4000:]}")
