"""``manage.py serve``: the web server, a Celery worker and beat, in the foreground, stopped together.

This is what ``make run`` starts. In production each part runs in its own container instead
(see docker-compose.yml), with the same commands this one spawns.

- One per data directory: beat's schedule file, the embedded broker and the metrics live there, and
  two beats on one schedule send every periodic task twice. A lock on a file there (``flock``: the
  operating system drops it when the process dies, however it dies) refuses a second one.
- A crashed worker or beat is started again, after a delay that doubles with each crash in a row
  (1 s up to 30 s), so a process that cannot start does not spin; the web server keeps serving.
  A web server that exits ends the whole (its port, its clients: nothing to restart into).
- It says where it listens once the port accepts connections, and which configuration is in
  force: never a secret (keys and tokens only as "set"; URLs without password).
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from suite_ai.startup import fail, redacted, service_problems

logger = logging.getLogger("suite_ai.serve")

LOCK_FILE = "serve.lock"
FIRST_RESTART_DELAY = 1.0  # seconds before a crashed worker or beat starts again
MAX_RESTART_DELAY = 30.0  # the delay doubles with each crash in a row, up to this
STABLE_AFTER = 60.0  # a process that ran this long before crashing starts again after the first delay
STOP_GRACE = 15.0  # seconds the children get to finish after SIGTERM, before SIGKILL
POLL_INTERVAL = 0.1
WEB_PROTOCOL = "suite_ai.web_server:LimitedHttpToolsProtocol"


def worker_command(concurrency: int) -> list[str]:
    # Threads: a job waits on the model >99% of its time, so one process holds hundreds of calls.
    return [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "worker",
        "--pool", "threads", "--concurrency", str(concurrency),
        "--queues", settings.CELERY_TASK_DEFAULT_QUEUE,
        "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]  # fmt: skip


def beat_command() -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "beat",
        "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME, "--loglevel", "INFO",
    ]  # fmt: skip


def web_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "suite_ai.asgi:application",
        "--http", WEB_PROTOCOL,  # uvicorn's, with limits on slow or oversized requests
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on the data directory for as long as this process lives (the file
    object must stay referenced); a second serve on the same directory is refused in one line."""
    handle = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")  # not inherited by the children
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        fail(
            f"another `manage.py serve`{f' (pid {holder})' if holder.isdigit() else ''} is already running on"
            f" the data directory {data_dir} (SUITE_AI_DATA_DIR): two would run two beats on one schedule."
            " Stop it first, or give this one another SUITE_AI_DATA_DIR."
        )
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def connect_host(host: str) -> str:
    """Where to reach a server bound to ``host`` from this machine."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def port_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not bind ``host:port``, found before it starts (and before a banner
    could be printed for some other program that listens there)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as error:
        return f"PORT={port}, HOST={host}: cannot listen there ({error.strerror or error}); set PORT or HOST"
    return None


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((connect_host(host), port), timeout=1):
            return True
    except OSError:
        return False


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def host_of(url: str) -> str:
    """Scheme, host and port of a URL: enough to say where it points, nothing that may be a credential."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def configuration_lines() -> list[str]:
    """The configuration in force, as ``name  value`` lines: where the state is, the model, Docs,
    OIDC. Secrets appear only as "set"; URLs without their password."""
    database = settings.DATABASES["default"]
    sqlite = database["ENGINE"] == "django.db.backends.sqlite3"
    embedded_broker = str(settings.CELERY_BROKER_URL).startswith("filesystem://")
    if sqlite and embedded_broker:
        mode = "embedded (SQLite + embedded broker: no server needed)"
    elif not sqlite and not embedded_broker:
        mode = "Redis/Postgres"
    else:
        mode = "mixed"
    lines = [
        ("mode", mode),
        ("database", f"SQLite {database['NAME']}" if sqlite else f"PostgreSQL {redacted(settings.DATABASE_URL)}"),
        (
            "broker",
            f"embedded, in {Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']).parent}"
            if embedded_broker
            else redacted(settings.CELERY_BROKER_URL),
        ),
        (
            "redis",
            f"{redacted(settings.REDIS_URL)} (throttles, model rate limiter)"
            if settings.REDIS_URL
            else "not configured: throttles and model rate limiter per process",
        ),
        ("data", str(settings.DATA_DIR)),
    ]
    server = host_of(settings.MISTRAL_SERVER_URL) if settings.MISTRAL_SERVER_URL else "Mistral's API (api.mistral.ai)"
    if settings.MISTRAL_API_KEY:
        model = f"{settings.MISTRAL_MODEL} (long inputs and notes: {settings.MISTRAL_MODEL_LONG}) on {server}, key set"
    else:
        model = "no MISTRAL_API_KEY: only summarize and note, with the offline extractive engine"
    lines.append(("model", model))
    if settings.DOCS_BASE_URL:
        docs = redacted(settings.DOCS_BASE_URL)
        if settings.DOCS_PUBLIC_URL:
            docs += f" (links for people: {redacted(settings.DOCS_PUBLIC_URL)})"
        docs += f", notes as {settings.SUITE_AI_NOTE_MODE}"
    else:
        docs = "not configured (DOCS_BASE_URL): actions need their input in the request"
    lines.append(("docs", docs))
    if settings.OIDC_RESOURCE_SERVER_ENABLED:
        issuer = redacted(settings.OIDC_OP_URL) if settings.OIDC_OP_URL else "(OIDC_OP_URL unset)"
        oidc = f"issuer {issuer}, introspection at {host_of(str(settings.OIDC_OP_INTROSPECTION_ENDPOINT))}"
    else:
        oidc = "not configured: local tokens (manage.py create_token) only"
    lines.append(("oidc", oidc))
    if settings.SUITE_AI_SERVICE_TOKENS:
        lines.append(("service", f"{len(settings.SUITE_AI_SERVICE_TOKENS)} service token(s) set"))
        routed = list(settings.SUITE_AI_MODEL_ROUTES) or [str(settings.MISTRAL_MODEL), str(settings.MISTRAL_MODEL_LONG)]
        lines.append(("models", f"/v1/chat/completions serves {', '.join(dict.fromkeys(routed))}"))
    return [f"  {name:<9} {value}" for name, value in lines]


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> Callable[[], None] | None:
    """In the child, before exec (Linux): SIGTERM when serve dies, however it dies (SIGKILL
    included), so that no orphan web server keeps the port, nor an orphan beat the schedule."""
    if not sys.platform.startswith("linux"):
        return None

    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # serve died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


@dataclass
class Child:
    """One supervised process, and when it may start again after a crash."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    crashes_in_a_row: int = 0
    restart_at: float | None = None
    restarts: int = 0

    def start(self, env: dict[str, str]) -> int:
        """Start the process; its pid."""
        self.process = subprocess.Popen(self.command, env=env, preexec_fn=die_with_parent(os.getpid()))  # noqa: PLW1509
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.process.pid

    def crashed(self, now: float) -> float:
        """Record a crash; the delay before the next start."""
        self.process = None
        self.crashes_in_a_row = 1 if now - self.started_at >= STABLE_AFTER else self.crashes_in_a_row + 1
        delay = min(FIRST_RESTART_DELAY * 2 ** (self.crashes_in_a_row - 1), MAX_RESTART_DELAY)
        self.restart_at = now + delay
        self.restarts += 1
        return delay


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST, help="HOST (127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT, help="PORT (8000)")
        parser.add_argument("--web-workers", type=int, default=settings.WEB_CONCURRENCY, help="WEB_CONCURRENCY (1)")
        parser.add_argument("--concurrency", type=int, default=settings.SUITE_AI_WORKER_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        lock = lock_data_dir(settings.DATA_DIR)  # first: before touching what the data dir holds
        problems = [problem for problem in (port_problem(host, port), *service_problems()) if problem]
        if problems:
            fail("; ".join(problems))

        env = dict(os.environ)
        metrics_dir = settings.PROMETHEUS_MULTIPROC_DIR or str(settings.DATA_DIR / "metrics")
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        if settings.MISTRAL_SERVER_URL:
            # The URL as corrected here (see CONFIGURATION_WARNINGS): the children need not warn again.
            env.pop("MISTRAL_SERVER_URL_FILE", None)
            env["MISTRAL_SERVER_URL"] = settings.MISTRAL_SERVER_URL

        children = [
            Child("web", web_command(host, port, options["web_workers"])),
            Child("worker", worker_command(options["concurrency"])),
            Child("beat", beat_command()),
        ]
        signals_received: list[int] = []

        def stop(signum: int, frame: Any) -> None:
            signals_received.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for child in children:
            logger.info("%s started (pid %d)", child.name, child.start(env))

        exit_code = self.supervise(children, env, host, port, signals_received)
        self.stop_children(children, signals_received)
        lock.close()
        sys.exit(exit_code)

    def supervise(
        self, children: list[Child], env: dict[str, str], host: str, port: int, signals_received: list[int]
    ) -> int:
        """Until a signal or the web server's exit: restart what crashes, announce once listening."""
        announced = False
        while not signals_received:
            now = time.monotonic()
            for child in children:
                if child.process is None:
                    if child.restart_at is not None and now >= child.restart_at:
                        logger.warning(
                            "%s restarted (pid %d, restart %d)", child.name, child.start(env), child.restarts
                        )
                    continue
                returncode = child.process.poll()
                if returncode is None:
                    continue
                pid = child.process.pid
                if child.name == "web":
                    logger.error("web (pid %d) %s; stopping the worker and beat", pid, exit_reason(returncode))
                    return returncode if returncode > 0 else 1
                uptime = now - child.started_at
                delay = child.crashed(now)
                logger.warning(
                    "%s (pid %d) %s after %.0f s; restarting it in %.0f s", child.name, pid,
                    exit_reason(returncode), uptime, delay,
                )  # fmt: skip
            if not announced and accepts_connections(host, port):
                announced = True
                url = base_url(host, port)
                playground = f", playground {url}/playground/" if settings.SUITE_AI_PLAYGROUND else ""
                lines = [
                    f"suite_ai is listening on {url} (API {url}/api/v1.0/, Swagger UI {url}/api/v1.0/swagger/"
                    f"{playground}); Ctrl-C stops the web server, the worker and beat",
                    *configuration_lines(),
                ]
                self.stdout.write("\n".join(lines))
                self.stdout.flush()
            time.sleep(POLL_INTERVAL)
        return 0

    def stop_children(self, children: list[Child], signals_received: list[int]) -> None:
        """SIGTERM to each running child (Ctrl-C already sent them SIGINT), SIGKILL after the grace
        period, or at once on a second Ctrl-C."""
        running = [child.process for child in children if child.process is not None and child.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        signals_so_far = len(signals_received)
        deadline = time.monotonic() + STOP_GRACE
        while any(process.poll() is None for process in running):
            if time.monotonic() >= deadline or len(signals_received) > signals_so_far:
                for process in running:
                    if process.poll() is None:
                        process.kill()
            time.sleep(POLL_INTERVAL)
