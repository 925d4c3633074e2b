"""Docs' ``ai-transform``: served by suite_ai vs by La Suite Docs itself, side by side (issue #15).

Both sides get the same closed loop (30 s by default, at 64 and at 256 clients), the same fake
model in its own process answering after 2 s (``[[latency:2.0]]`` in the text), and requests
shaped exactly as Docs' frontend sends them (``useDocAITransform.tsx`` → ``fetchAPI``:
``POST /api/v1.0/documents/{id}/ai-transform/``, JSON ``{"text", "action"}``, the session and
``csrftoken`` cookies, ``X-CSRFToken`` equal to the cookie, the page's ``Origin``). Each client is
its own user, signed in, with its own document (owner). Per side and client count: results/s,
latency p50/p99, server CPU per result (from /proc: suite_ai's uvicorn web + Celery worker
processes; Docs' uvicorn supervisor and its workers), errors by HTTP status (or exception), and
the most connections to the side's database open and active at once.

- **suite_ai**: the stack of ``bench/service_bench.py`` (uvicorn web, two Celery worker processes,
  Postgres, Redis) with ``DOCS_BASE_URL`` pointing at the fake Docs (``tests/fakes/docs_server.py``,
  in its own process) which answers ``users/me`` and the document's abilities; suite_ai caches
  them (``SUITE_AI_DOCS_SESSION_CACHE``, 30 s). Docs' AI throttles are raised.
- **Docs**: the real Docs backend (5.4.1 measured), installed by this script into
  ``var/bench/docs-venv`` from Docs' own ``uv.lock`` (``uv sync --frozen``: PyPI only), run as its
  production image runs it (``uvicorn --lifespan=off --limit-max-requests=20000
  impress.asgi:application`` with ``WEB_CONCURRENCY=4``, ``DJANGO_CONFIGURATION=Production``),
  its own Postgres database migrated, its cache and sessions in Redis, ``AI_BASE_URL`` at the
  fake model. The only change to its settings is a subclass of ``Production`` raising
  ``AI_USER_RATE_THROTTLE_RATES`` / ``AI_DOCUMENT_RATE_THROTTLE_RATES`` (class attributes, no
  environment variable). Sessions are created through Django's session engine by a script run
  with Docs' venv. Requests carry ``Host: docs.bench`` and ``X-Forwarded-Proto: https``, as
  behind Docs' ingress (Production redirects plain HTTP and checks the ``Origin`` against the host).
  The exact environment is ``docs_env`` below.

Docs' source comes from ``--docs-src`` (or ``DOCS_SRC``): a checkout of suitenumerique/docs or its
``src/backend``. Without it, only suite_ai's side runs and the issue's figures for Docs are printed
as the reference. Docs needs Python 3.13 (``--docs-python``; found on PATH or under pyenv).

Postgres: by default a cluster of the benchmark's own (``initdb`` in a temporary directory,
``max_connections=100``, Postgres' default), because Docs at 256 clients takes every connection it
can and would starve any other database on a shared server; ``--database-url`` uses a server of
your choice instead (its ``max_connections`` is printed). Redis: a ``redis-server`` of its own.

Usage: .venv/bin/python bench/docs_ai_bench.py [--docs-src PATH] [--clients 64,256] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_bench import FakeModel, Stack, cpu_seconds, percentile  # noqa: E402
from bench.sse_bench import ConnectionSampler  # noqa: E402
from tests.support.processes import ManagedProcess, free_port  # noqa: E402

MODEL_DELAY = 2.0
ACTION = "rephrase"
DOCS_HOST = "docs.bench"  # Docs' public host, as its ingress forwards it
OPEN = 1_000_000  # the AI throttles, raised on both sides
# The figures for Docs 5.4.1 on this kind of machine (#15), shown when Docs is not run.
DOCS_REFERENCE = {
    64: "28.1 results/s, 17–18 ms of server CPU per call",
    256: "1,140–2,839 × 500 with Postgres at 100 connections (one held per call in flight); "
    "44.7–54.5 results/s with unlimited connections",
}

# Docs' settings: Production, with only the AI throttles (class attributes) raised.
DOCS_SETTINGS = f"""\
from impress.settings import Production


class Bench(Production):
    AI_USER_RATE_THROTTLE_RATES = {{"minute": {OPEN}, "hour": {OPEN}, "day": {OPEN}}}
    AI_DOCUMENT_RATE_THROTTLE_RATES = {{"minute": {OPEN}, "hour": {OPEN}, "day": {OPEN}}}
"""

# Run with Docs' venv: one user per client, each owner of a document, each signed in (a session
# written through Docs' session engine, as its OIDC login leaves it). Prints them as JSON.
DOCS_SETUP = """\
import json
import secrets
import sys
from importlib import import_module

import configurations

configurations.setup()

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from core import models

store = import_module(settings.SESSION_ENGINE).SessionStore
out = []
for index in range(int(sys.argv[1])):
    sub = f"docsbench-{index}"
    user = models.User.objects.filter(sub=sub).first()
    if user is None:
        user = models.User(sub=sub, email=f"{sub}@example.org", full_name=sub)
        user.set_unusable_password()
        user.save()
    access = models.DocumentAccess.objects.filter(user=user, role="owner").select_related("document").first()
    if access is None:
        document = models.Document.add_root(title=f"Bench {index}", creator=user)
        models.DocumentAccess.objects.create(document=document, user=user, role="owner")
    else:
        document = access.document
    session = store()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "core.authentication.backends.OIDCAuthenticationBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    out.append({"session": session.session_key, "csrftoken": secrets.token_hex(16), "document": str(document.id)})
print("USERS " + json.dumps(out), flush=True)
"""


@dataclass
class Target:
    """One side: where to send, as whom, and which processes are the server."""

    name: str
    url: str
    origin: str
    session_cookie: str
    users: list[dict[str, str]]
    extra_headers: dict[str, str] = field(default_factory=dict)

    def request(self, index: int) -> tuple[str, dict[str, str]]:
        user = self.users[index % len(self.users)]
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": user["csrftoken"],
            "Origin": self.origin,
            "Cookie": f"{self.session_cookie}={user['session']}; csrftoken={user['csrftoken']}",
            **self.extra_headers,
        }
        return f"{self.url}/api/v1.0/documents/{user['document']}/ai-transform/", headers


@dataclass
class Loop:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def _closed_loop(target: Target, clients: int, seconds: float) -> Loop:
    result = Loop()
    stop_at = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        await asyncio.sleep(index * 0.5 / clients)  # not all in the same millisecond
        url, headers = target.request(index)
        n = 0
        while time.perf_counter() < stop_at:
            n += 1
            text = f"Texte {index}-{n}. Une phrase à reformuler. [[latency:{MODEL_DELAY}]]"
            started = time.perf_counter()
            try:
                async with asyncio.timeout(150):
                    async with session.post(url, json={"text": text, "action": ACTION}, headers=headers) as response:
                        body = await response.read()
                if response.status == 200 and "answer" in json.loads(body):
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.errors[str(response.status)] += 1
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                result.errors[type(error).__name__] += 1

    # The browser's cookies are the ones set above: nothing Docs answers changes them here.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None)
    ) as session:
        await asyncio.gather(*(client(session, i) for i in range(clients)))
    return result


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (uvicorn's supervisor spawns its workers)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _cpu(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except OSError:  # gone (a uvicorn worker restarted): its CPU is not counted
            continue
    return out


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (/proc/stat), to tell how loaded it was."""
    # user nice system idle iowait irq softirq steal (guest time is already in user and nice)
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def measure(
    target: Target, server_pids: list[int], sampler: ConnectionSampler, clients: int, seconds: float
) -> dict[str, Any]:
    before = _cpu(server_pids)
    machine_before = machine_cpu()
    started = time.perf_counter()
    with sampler:
        result = asyncio.run(_closed_loop(target, clients, seconds))
    elapsed = time.perf_counter() - started
    after = _cpu(server_pids)
    machine_after = machine_cpu()
    cpu = sum(after[pid] - before[pid] for pid in after if pid in before)
    busy = machine_after[0] - machine_before[0]
    results = len(result.latencies)
    return {
        "side": target.name,
        "clients": clients,
        "results": results,
        "results_per_second": results / elapsed,
        "p50_s": percentile(result.latencies, 50),
        "p99_s": percentile(result.latencies, 99),
        "server_cpu_ms_per_result": cpu / max(1, results) * 1000,
        "server_processes": len(after),
        # The whole machine's busy share of its cores: this side, its stand-ins, and anyone else.
        "machine_busy": busy / max(1e-9, machine_after[1] - machine_before[1]),
        "errors": sum(result.errors.values()),
        "errors_by_status": dict(result.errors.most_common()),
        "max_db_connections_open": sampler.max_open,
        "max_db_connections_active": sampler.max_active,
    }


# --- Postgres and Redis of the benchmark's own ---------------------------------------------------


class OwnPostgres:
    """A throw-away Postgres cluster at Postgres' default of 100 connections."""

    def __init__(self) -> None:
        bindir = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        self.dir = Path(tempfile.mkdtemp(prefix="docsbench-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.pg_ctl = str(bindir / "pg_ctl")
        try:
            self._start(bindir)
        except (OSError, subprocess.CalledProcessError):
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"

    def _start(self, bindir: Path) -> None:
        subprocess.run(
            [*self.as_user, str(bindir / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
             "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100"
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"),
             "-w", "start"],
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "stop"], check=False,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


def create_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')


def max_connections(server: str) -> int:
    with psycopg.connect(f"{server}/postgres") as conn:
        row = conn.execute("show max_connections").fetchone()
    return int(row[0]) if row else 0


# --- suite_ai's side ----------------------------------------------------------------------------


def serve_fake_docs(users: int) -> None:
    """``--serve-fake-docs N``: the fake Docs in this process, N users each signed in with a
    document of their own; prints them, then serves until stopped."""
    import threading

    from tests.fakes.docs_server import FakeDocsServer

    docs = FakeDocsServer(throttle_rate=None)  # Docs' "document" throttle (80/min per user) off
    docs.start()
    out = []
    for index in range(users):
        user = docs.add_user(f"docsbench-{index}", f"docsbench-{index}@example.org")
        document = docs.add_document(f"Bench {index}", owner=user)
        cookies = docs.login(user)
        out.append({"session": cookies["docs_sessionid"], "csrftoken": cookies["csrftoken"], "document": document.id})
    print(f"URL {docs.url}", flush=True)
    print("USERS " + json.dumps(out), flush=True)
    threading.Event().wait()


def _printed(process: ManagedProcess, prefix: str, timeout: float = 120) -> str:
    process.wait_for_log("USERS ", timeout)
    return next(line[len(prefix) :] for line in process.log().splitlines() if line.startswith(prefix))


def suite_ai_side(
    args: argparse.Namespace, model: FakeModel, server: str, log_dir: Path, redis_url: str
) -> dict[str, Any]:
    users = max(args.client_counts)
    docs = ManagedProcess(
        "fake-docs", [sys.executable, str(Path(__file__)), "--serve-fake-docs", str(users)], dict(os.environ), log_dir
    )
    results: dict[str, Any] = {}
    stack = None
    try:
        docs_url = _printed(docs, "URL ")
        target = Target("suite_ai", "", docs_url, "docs_sessionid", json.loads(_printed(docs, "USERS ")))
        os.environ.update(
            {
                "DOCS_BASE_URL": docs_url,
                "SUITE_AI_DOCS_AI_USER_RATES": f"minute={OPEN},hour={OPEN},day={OPEN}",
                "SUITE_AI_DOCS_AI_DOCUMENT_RATES": f"minute={OPEN},hour={OPEN},day={OPEN}",
            }
        )
        database_url = f"{server}/suite_ai_docsbench"
        create_database(server, "suite_ai_docsbench")
        stack_args = argparse.Namespace(
            database_url=database_url, broker=f"{redis_url}/0", redis=f"{redis_url}/1", concurrency=256, workers=2
        )
        stack = Stack(stack_args, model, log_dir)
        target.url = stack.url
        sampler = ConnectionSampler(database_url)
        asyncio.run(_closed_loop(target, 32, 5.0))  # warm-up, not measured
        for clients in args.client_counts:
            pids = [stack.web.process.pid, *(worker.process.pid for worker in stack.workers)]
            results[str(clients)] = measure(target, pids, sampler, clients, args.seconds)
            print(json.dumps(results[str(clients)]), flush=True)
        sampler.conn.close()
    finally:
        if stack is not None:
            stack.stop()
        docs.stop()
    return results


# --- Docs' side ---------------------------------------------------------------------------------


def docs_backend(source: Path) -> Path:
    """Docs' ``src/backend`` in a checkout (or the directory itself)."""
    for candidate in (source / "src" / "backend", source):
        if (candidate / "uv.lock").exists() and (candidate / "impress").is_dir():
            return candidate
    raise RuntimeError(f"--docs-src {source}: neither it nor its src/backend holds Docs' backend (uv.lock, impress/)")


def python_313(given: str | None) -> str:
    """Docs requires Python ~=3.13.0."""
    candidates = [given] if given else [
        shutil.which("python3.13"), *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13"))),
        "/usr/bin/python3.13", "/usr/local/bin/python3.13",
    ]  # fmt: skip
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "--version"], capture_output=True, check=False).returncode == 0:
            return candidate
    raise RuntimeError("Docs needs Python 3.13: none found (give one with --docs-python)")


def install_docs(backend: Path, python: str, venv: Path) -> None:
    """Docs' dependencies exactly as its lock pins them (the project itself runs from source)."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv not found (it is in requirements-dev.txt)")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "--no-install-project", "--python", python, "--quiet"],
        cwd=backend, env=env, check=True,
    )  # fmt: skip


def docs_env(
    backend: Path, settings_dir: Path, db_port: str, db_name: str, redis_url: str, model: FakeModel
) -> dict[str, str]:
    """Docs' environment: env.d/production.dist/backend's, for this machine."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": f"{settings_dir}:{backend}",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "docsbench_settings",
        "DJANGO_CONFIGURATION": "Bench",  # Production, the AI throttles raised
        "DJANGO_SECRET_KEY": "docsbench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": DOCS_HOST,
        "WEB_CONCURRENCY": "4",  # Docs' image: ENV WEB_CONCURRENCY=4
        "DB_HOST": "127.0.0.1",
        "DB_PORT": db_port,
        "DB_NAME": db_name,
        "DB_USER": "postgres",
        "DB_PASSWORD": "",
        "REDIS_URL": redis_url,  # cache and sessions
        "DJANGO_CELERY_BROKER_URL": redis_url,
        "AI_FEATURE_ENABLED": "true",
        "AI_BASE_URL": f"{model.url}/v1",  # the OpenAI SDK's base URL
        "AI_API_KEY": model.api_key,
        "AI_MODEL": "mistral-small-latest",
        "LOGGING_LEVEL_HANDLERS_CONSOLE": "ERROR",
        "LOGGING_LEVEL_LOGGERS_ROOT": "INFO",
        "LOGGING_LEVEL_LOGGERS_APP": "INFO",
        # Required at start-up, unused by ai-transform.
        "OIDC_RP_CLIENT_SECRET": "unused",
        "OIDC_OP_JWKS_ENDPOINT": "http://127.0.0.1:9/jwks",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "http://127.0.0.1:9/auth",
        "Y_PROVIDER_API_KEY": "unused",
        "Y_PROVIDER_API_BASE_URL": "http://127.0.0.1:9/",
    }


def docs_side(args: argparse.Namespace, model: FakeModel, server: str, log_dir: Path, redis_url: str) -> dict[str, Any]:
    backend = docs_backend(Path(args.docs_src))
    venv = ROOT / "var" / "bench" / "docs-venv"
    install_docs(backend, python_313(args.docs_python), venv)
    settings_dir = log_dir / "docs-settings"
    settings_dir.mkdir(parents=True, exist_ok=True)
    (settings_dir / "docsbench_settings.py").write_text(DOCS_SETTINGS)
    (settings_dir / "docsbench_setup.py").write_text(DOCS_SETUP)
    create_database(server, "docs_docsbench")
    env = docs_env(backend, settings_dir, server.rsplit(":", 1)[1], "docs_docsbench", f"{redis_url}/2", model)
    python = str(venv / "bin" / "python")
    migrate = subprocess.run(
        [python, str(backend / "manage.py"), "migrate", "-v", "0"], env=env, capture_output=True, check=False
    )
    if migrate.returncode != 0:
        raise RuntimeError(f"Docs' migrate failed:\n{migrate.stderr.decode(errors='replace')[-4000:]}")
    setup = ManagedProcess(
        "docs-setup", [python, str(settings_dir / "docsbench_setup.py"), str(max(args.client_counts))], env, log_dir
    )
    users = json.loads(_printed(setup, "USERS "))
    setup.stop()
    port = free_port()
    web = ManagedProcess(
        "docs-web",
        [python, "-m", "uvicorn", f"--app-dir={backend}", "--host=127.0.0.1", f"--port={port}",
         "--timeout-graceful-shutdown=300", "--limit-max-requests=20000", "--lifespan=off", "impress.asgi:application"],
        env, log_dir,
    )  # fmt: skip
    results: dict[str, Any] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while len(descendants(web.process.pid)) < 5 or web.log().count("Started server process") < 4:
            if time.monotonic() > deadline or web.process.poll() is not None:
                raise RuntimeError(f"Docs did not start:\n{web.log()[-4000:]}")
            time.sleep(0.2)
        headers = {"Host": DOCS_HOST, "X-Forwarded-Proto": "https"}
        while httpx.get(f"{url}/__lbheartbeat__", headers=headers, timeout=10).status_code != 200:
            time.sleep(0.2)
        target = Target("Docs", url, f"https://{DOCS_HOST}", "docs_sessionid", users, headers)
        sampler = ConnectionSampler(f"{server}/docs_docsbench")
        asyncio.run(_closed_loop(target, 32, 5.0))  # warm-up, not measured: each worker imports
        for clients in args.client_counts:
            results[str(clients)] = measure(target, descendants(web.process.pid), sampler, clients, args.seconds)
            print(json.dumps(results[str(clients)]), flush=True)
        sampler.conn.close()
    finally:
        web.stop()
    return results


# --- The table ----------------------------------------------------------------------------------


def table(results: dict[str, Any], client_counts: list[int]) -> list[str]:
    lines = [
        "| clients | served by | results/s | latency p50 / p99 | server CPU per result | errors (by status) "
        "| DB connections open / active, max | machine busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clients in client_counts:
        for side in ("suite_ai", "Docs"):
            r = results.get(side, {}).get(str(clients))
            if r is None:
                if side == "Docs":
                    reference = DOCS_REFERENCE.get(clients, "none")
                    lines.append(f"| {clients} | Docs 5.4.1 (not run: the issue's figures) | {reference} | | | | | |")
                continue
            errors = ", ".join(f"{count} × {kind}" for kind, count in r["errors_by_status"].items()) or "0"
            lines.append(
                f"| {clients} | {side} | {r['results_per_second']:.1f} | {r['p50_s']:.2f} / {r['p99_s']:.2f} s "
                f"| {r['server_cpu_ms_per_result']:.2f} ms | {errors} "
                f"| {r['max_db_connections_open']} / {r['max_db_connections_active']} | {r['machine_busy']:.0%} |"
            )
    return lines


def verdicts(results: dict[str, Any]) -> list[str]:
    """The issue's targets, where both sides were measured."""
    ours, docs = results.get("suite_ai", {}), results.get("Docs", {})
    out = []
    if "64" in ours and "64" in docs:
        a, b = ours["64"], docs["64"]
        out.append(
            f"64 clients: results/s {a['results_per_second']:.1f} vs {b['results_per_second']:.1f} (target ≥: "
            f"{'met' if a['results_per_second'] >= b['results_per_second'] else 'NOT met'}); CPU per result "
            f"{a['server_cpu_ms_per_result']:.2f} vs {b['server_cpu_ms_per_result']:.2f} ms (target ≤ half: "
            f"{'met' if a['server_cpu_ms_per_result'] <= b['server_cpu_ms_per_result'] / 2 else 'NOT met'})"
        )
    if "256" in ours and "256" in docs:
        a, b = ours["256"], docs["256"]
        out.append(
            f"256 clients: results/s {a['results_per_second']:.1f} vs {b['results_per_second']:.1f} (target ≥ 2×: "
            f"{'met' if a['results_per_second'] >= 2 * b['results_per_second'] else 'NOT met'}); suite_ai errors "
            f"{a['errors']} (target 0: {'met' if a['errors'] == 0 else 'NOT met'})"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs-src", default=os.environ.get("DOCS_SRC"), help="Docs checkout (or its src/backend)")
    parser.add_argument("--docs-python", help="a Python 3.13 for Docs' venv")
    parser.add_argument(
        "--database-url", help="a Postgres server (postgres://user@host:port) instead of an own cluster"
    )
    parser.add_argument("--clients", default="64,256")
    parser.add_argument("--seconds", type=float, default=30.0, help="each closed loop's length")
    parser.add_argument("--sides", default="suite_ai,Docs")
    parser.add_argument("--serve-fake-docs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_docs is not None:
        serve_fake_docs(args.serve_fake_docs)
        return
    args.client_counts = [int(c) for c in args.clients.split(",") if c]
    sides = args.sides.split(",")
    if "Docs" in sides and not args.docs_src:
        print("No --docs-src / DOCS_SRC: Docs' side is not run; its figures below are the issue's (#15).", flush=True)
        sides.remove("Docs")

    from tests.support.redis_server import RedisServer

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    postgres = None
    server = (args.database_url or "").rstrip("/")
    if not server:
        try:
            postgres = OwnPostgres()
            server = postgres.url
        except (OSError, subprocess.CalledProcessError) as error:
            server = "postgres://postgres@127.0.0.1:5432"
            print(f"No Postgres cluster of its own ({error}): using {server}", flush=True)
    redis = RedisServer(log_dir)
    redis.start()
    redis_url = redis.url.rsplit("/", 1)[0]
    model = FakeModel(log_dir)
    idle_before = machine_cpu()
    time.sleep(3)
    idle_after = machine_cpu()
    results: dict[str, Any] = {
        "conditions": {
            "machine_busy_before": (idle_after[0] - idle_before[0]) / max(1e-9, idle_after[1] - idle_before[1]),
            "postgres": "own cluster" if postgres else server,
            "max_connections": max_connections(server),
            "load_average_before": os.getloadavg(),
            "seconds": args.seconds,
            "model_delay_s": MODEL_DELAY,
        }
    }
    try:
        if "suite_ai" in sides:
            results["suite_ai"] = suite_ai_side(args, model, server, log_dir, redis_url)
        if "Docs" in sides:
            try:
                results["Docs"] = docs_side(args, model, server, log_dir, redis_url)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                print(f"Docs' side failed, its figures below are the issue's: {error}", flush=True)
                results["docs_failure"] = str(error)
    finally:
        results["conditions"]["load_average_after"] = os.getloadavg()
        model.process.stop()
        redis.stop()
        if postgres is not None:
            postgres.stop()

    print(json.dumps(results, indent=2))
    print()
    conditions = results["conditions"]
    loads = " / ".join(
        ", ".join(f"{value:.2f}" for value in conditions[key]) for key in ("load_average_before", "load_average_after")
    )
    print(
        f"Postgres max_connections {conditions['max_connections']}; machine busy in the 3 s before: "
        f"{conditions['machine_busy_before']:.0%}; load average (1, 5, 15 min) before / after: {loads}"
    )
    print()
    for line in [*table(results, args.client_counts), "", *verdicts(results)]:
        print(line)


if __name__ == "__main__":
    main()
