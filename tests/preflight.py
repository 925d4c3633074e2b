"""What `make test` needs from the machine, checked before npm and pytest run.

Without it, a missing ``node`` surfaces as an npm error or a harness stack trace minutes into the
run, and a Redis or Postgres that does not answer as hundreds of connection errors. Each problem is
reported on one line, and the exit status is 1. Only the services the environment names are
checked: the embedded defaults (SQLite, embedded broker, no cache) need none.

Run as ``python tests/preflight.py`` (no Django, no suite_ai import: it must work on a broken tree).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

INTEROP_DIR = Path(__file__).resolve().parent / "interop"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
NODE_MAJOR = 20
TIMEOUT = 3.0

Check = Callable[[Mapping[str, str]], str | None]


def redact(url: str) -> str:
    """The URL without its password, for a message that may end up in a CI log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def check_node(environ: Mapping[str, str]) -> str | None:
    hint = (
        f"the interop tests run the real BlockNote/Yjs libraries in Node {NODE_MAJOR}+"
        " (Debian: apt-get install nodejs npm)"
    )
    node = shutil.which("node", path=environ.get("PATH", ""))
    if node is None:
        return f"node is not on PATH: {hint}"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return f"node ({node}) does not run: {first_line(error)}; {hint}"
    match = re.match(r"v(\d+)\.", version.strip())
    if match is None or int(match.group(1)) < NODE_MAJOR:
        return f"node {version.strip() or '?'} ({node}) is too old: {hint}"
    installed = (INTEROP_DIR / "node_modules" / ".package-lock.json").exists()
    if not installed and shutil.which("npm", path=environ.get("PATH", "")) is None:
        return f"npm is not on PATH and {INTEROP_DIR / 'node_modules'} is not installed yet: {hint}"
    return None


def check_chromium(environ: Mapping[str, str]) -> str | None:
    """The browser tests (tests/browser) drive Debian's Chromium: Playwright downloads no browser."""
    path = environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return (
        f"{path} is not an executable Chromium: the browser tests (tests/browser) drive Debian's Chromium"
        " (apt-get install chromium), or the one CHROMIUM_PATH names"
    )


def _redis_answers(url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as error:
        return first_line(error)
    finally:
        client.close()
    return None


def _tcp_answers(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or default_port), timeout=TIMEOUT):
            return None
    except OSError as error:
        return first_line(error)


def _postgres_answers(url: str) -> str | None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "connect_timeout": int(TIMEOUT),
    }
    # pytest-django creates its own test database through the "postgres" one, so the configured
    # database need not exist yet: the server answering either is enough.
    error: Exception | None = None
    for dbname in (config.get("NAME") or "postgres", "postgres"):
        try:
            psycopg.connect(dbname=dbname, **params).close()
            return None
        except psycopg.Error as failure:
            error = error or failure
    assert error is not None
    return first_line(error)


def check_service(variable: str) -> Check:
    def check(environ: Mapping[str, str]) -> str | None:
        url = environ.get(variable, "")
        scheme = urlsplit(url).scheme.lower()
        if scheme in {"redis", "rediss"}:
            service, problem = "Redis", _redis_answers(url)
        elif scheme in {"postgres", "postgresql", "pgsql"}:
            service, problem = "PostgreSQL", _postgres_answers(url)
        elif scheme in {"amqp", "amqps", "pyamqp"}:
            service, problem = "the AMQP broker", _tcp_answers(url, 5671 if scheme == "amqps" else 5672)
        else:
            return None  # unset, SQLite, the embedded broker: nothing to reach
        if problem is None:
            return None
        return (
            f"{variable}={redact(url)}: {service} does not answer ({problem});"
            f" start it, or unset {variable} for the embedded default"
        )

    return check


CHECKS: tuple[Check, ...] = (
    check_node,
    check_chromium,
    check_service("DATABASE_URL"),
    check_service("CELERY_BROKER_URL"),
    check_service("REDIS_URL"),
)


def problems(environ: Mapping[str, str]) -> list[str]:
    return [problem for check in CHECKS if (problem := check(environ)) is not None]


def main() -> int:
    found = problems(os.environ)
    for problem in found:
        print(f"make test: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
