"""``manage.py serve`` (``make run``) as a person runs it: a real process on a free port, with its own
data directory on the embedded defaults (SQLite + embedded broker), whatever this machine's
environment names. Its worker and beat are killed and come back; a second one on the same data
directory is refused; it announces itself only once it listens, and never shows a secret."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.mistral_server import FakeMistralServer
from tests.support.processes import ManagedProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
BANNER = "suite_ai is listening on "
START_TIMEOUT = 180.0  # generous: two cores shared with other test runs
SECRETS = {
    "DJANGO_SECRET_KEY": "serve-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DOCS_SERVER_TO_SERVER_TOKEN": "docs-s2s-token-never-shown",
    "OIDC_RS_CLIENT_SECRET": "oidc-client-secret-never-shown",
    "SUITE_AI_SERVICE_TOKENS": "service-token-never-shown",
}


def embedded_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """This process's environment without the service URLs (the embedded defaults), on ``data_dir``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
        and not k.startswith(("MISTRAL_", "DOCS_", "OIDC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="suite_ai.settings",  # what `make run` uses
        SUITE_AI_DATA_DIR=str(data_dir),
        SUITE_AI_LOG_LEVEL="INFO",
        SUITE_AI_WORKER_CONCURRENCY="8",
        HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
        **SECRETS,
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Served:
    process: ManagedProcess
    url: str
    port: int
    data_dir: Path
    env: dict[str, str]
    connected_after_banner: bool  # the port accepted a connection as soon as the banner was out

    def log(self) -> str:
        return self.process.log()

    def pids(self, name: str) -> list[int]:
        """Pids of ``name`` (web, worker, beat) in the order serve started them."""
        return [int(pid) for pid in re.findall(rf"\b{name} (?:started|restarted) \(pid (\d+)", self.log())]


def start_serve(data_dir: Path, log_dir: Path, **overrides: str) -> Served:
    """Start ``manage.py serve`` and wait for its banner. Each time the log is read without the
    banner, nothing is asserted; the first time it has it, the port is tried at once: a banner
    printed before the server listens shows as a refused connection."""
    port = free_port()
    env = embedded_env(data_dir, PORT=str(port), **overrides)
    process = ManagedProcess("serve", [sys.executable, "manage.py", "serve"], env, log_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while BANNER not in process.log():
        if process.process.poll() is not None:
            raise RuntimeError(f"serve exited early:\n{process.log()[-4000:]}")
        if time.monotonic() > deadline:
            process.stop()
            raise TimeoutError(f"serve did not announce itself:\n{process.log()[-4000:]}")
        time.sleep(0.02)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            connected = True
    except OSError:
        connected = False
    return Served(process, f"http://127.0.0.1:{port}", port, data_dir, env, connected)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated embedded database to copy into each serve's data directory."""
    data_dir = tmp_path_factory.mktemp("migrated")
    result = manage(embedded_env(data_dir), "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    return data_dir / "suite_ai.sqlite3"


def fresh_data_dir(tmp_path: Path, migrated: Path) -> Path:
    data_dir = tmp_path / f"data-{uuid.uuid4().hex[:8]}"
    data_dir.mkdir()
    shutil.copy(migrated, data_dir / "suite_ai.sqlite3")
    return data_dir


@pytest.fixture(scope="module")
def served(
    migrated: Path, tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeMistralServer
) -> Iterator[Served]:
    """One serve for the module, configured the way an operator would: a model behind a gateway
    (its URL given with /v1, as Albert documents it), Docs and OIDC with their secrets."""
    fake_model_server.reset(latency=0.0)
    tmp_path = tmp_path_factory.mktemp("served")
    instance = start_serve(
        fresh_data_dir(tmp_path, migrated),
        tmp_path,
        MISTRAL_API_KEY=fake_model_server.api_key,
        MISTRAL_SERVER_URL=f"{fake_model_server.url}/v1/",
        MISTRAL_MODEL="albert-small",
        DOCS_BASE_URL="http://docs-user:docs-password@127.0.0.1:9/",
        OIDC_OP_URL="https://sso.example.org/realms/lasuite",
        OIDC_OP_INTROSPECTION_ENDPOINT="https://sso.example.org/realms/lasuite/introspect",
        OIDC_RS_CLIENT_ID="suite-ai",
    )
    yield instance
    instance.process.stop()


def submit_and_finish(served: Served) -> dict:
    token = manage(served.env, "create_token", f"user-{uuid.uuid4().hex[:8]}").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as client:
        created = client.post(
            f"/api/v1.0/documents/{uuid.uuid4()}/actions/",
            json={"action": "summarize", "input": {"markdown": "# Compte rendu\n\nLa séance est ouverte à 10 h."}},
        )
        assert created.status_code == 202, created.text

        def finished() -> dict | None:
            job = client.get(f"/api/v1.0/jobs/{created.json()['id']}/").json()
            return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

        return wait_for(finished, timeout=120, interval=0.2)


def test_the_banner_comes_once_the_port_listens_and_shows_no_secret(served: Served, fake_model_server):
    assert served.connected_after_banner, served.log()[-4000:]
    log = served.log()
    banner = log[log.index(BANNER) :].split("\n\n", 1)[0]
    assert f"{BANNER}http://127.0.0.1:{served.port}" in banner
    assert f"playground http://127.0.0.1:{served.port}/playground/" in banner  # on in the embedded mode
    assert "embedded (SQLite + embedded broker" in banner
    assert "albert-small" in banner and fake_model_server.url in banner  # the model's server, /v1 taken off
    assert "http://docs-user:***@127.0.0.1:9/" in banner  # Docs' base URL, without its password
    assert "issuer https://sso.example.org/realms/lasuite" in banner
    for secret in [fake_model_server.api_key, "docs-password", *SECRETS.values()]:
        assert secret not in log  # neither in the banner nor anywhere else serve or its children wrote
    # The corrected model URL: one warning, from serve (its children get the corrected URL).
    assert len(re.findall(r"WARNING suite_ai.settings MISTRAL_SERVER_URL", log)) == 1


def test_a_second_serve_on_the_same_data_directory_is_refused(served: Served):
    second = manage(embedded_env(served.data_dir, PORT=str(free_port())), "serve")
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("suite_ai cannot start: another `manage.py serve` (pid ")
    assert f"already running on the data directory {served.data_dir} (SUITE_AI_DATA_DIR)" in lines[0]
    assert served.process.process.poll() is None  # the first one is untouched
    assert httpx.get(f"{served.url}/health/live", timeout=10).status_code == 200


def test_a_killed_worker_or_beat_is_restarted_and_jobs_still_run(served: Served):
    assert submit_and_finish(served)["status"] == "succeeded"
    for name in ("worker", "beat"):
        (pid,) = served.pids(name)[-1:]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda name=name, pid=pid: f"{name} (pid {pid}) killed by SIGKILL" in served.log(), timeout=60)
        restarted = wait_for(lambda name=name, pid=pid: [p for p in served.pids(name) if p != pid], timeout=60)
        assert re.search(rf"{name} \(pid {pid}\) killed by SIGKILL after \d+ s; restarting it in 1 s", served.log())
        assert alive(restarted[-1])
    assert served.process.process.poll() is None  # serve, and its web server, kept running
    job = submit_and_finish(served)  # picked up by the new worker
    assert job["status"] == "succeeded", job
    assert all(alive(pid) for pid in (served.pids("web")[-1], served.pids("worker")[-1], served.pids("beat")[-1]))


@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM"])
def test_ctrl_c_or_sigterm_stops_all_three_and_frees_the_data_directory(tmp_path, migrated, how):
    served = start_serve(fresh_data_dir(tmp_path, migrated), tmp_path)
    children = [served.pids(name)[0] for name in ("web", "worker", "beat")]
    if how == "Ctrl-C":  # the terminal signals the whole foreground process group
        os.killpg(served.process.process.pid, signal.SIGINT)
    else:  # what a process manager sends
        served.process.process.send_signal(signal.SIGTERM)
    assert served.process.process.wait(timeout=120) == 0, served.log()[-4000:]
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=60)
    with (served.data_dir / "serve.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released


def test_a_killed_serve_leaves_no_lock_and_no_orphan(tmp_path, migrated):
    """However serve dies, the OS drops its lock; its children follow it rather than keep a port
    and a second beat running for the next one."""
    served = start_serve(fresh_data_dir(tmp_path, migrated), tmp_path)
    children = [served.pids(name)[0] for name in ("web", "worker", "beat")]
    served.process.process.kill()  # serve alone, not its process group
    served.process.process.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=60)
    with (served.data_dir / "serve.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what the next serve takes


def test_a_database_that_does_not_answer_stops_serve_in_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = embedded_env(
        tmp_path, PORT=str(free_port()), DATABASE_URL=f"postgres://suite_ai:hunter2@127.0.0.1:{closed}/x"
    )
    result = manage(env, "serve")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"suite_ai cannot start: DATABASE_URL=postgres://suite_ai:***@127.0.0.1:{closed}/x")
    assert "hunter2" not in result.stderr + result.stdout


def test_a_port_in_use_stops_serve_in_one_line(tmp_path, migrated):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = manage(embedded_env(fresh_data_dir(tmp_path, migrated), PORT=str(port)), "serve")
    assert result.returncode == 2
    assert result.stderr.startswith(f"suite_ai cannot start: PORT={port}, HOST=127.0.0.1: cannot listen there")
