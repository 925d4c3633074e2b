"""Start-up problems as one line for a person, not a traceback.

A bad variable raises ``ImproperlyConfigured`` from ``suite_ai/settings.py`` with its name and what
it expects; every entry point (``manage.py``, ``manage.py serve``, the ASGI app, the Celery app)
loads the settings inside ``reported()``, which prints that message as one line on stderr and
exits 2 (the usage-error status). The services the processes need (the database, Redis) are
checked the same way, with their URLs shown without password.
"""

from __future__ import annotations

import contextlib
import copy
import re
import sys
from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

EXIT_CONFIGURATION = 2  # as for a command-line usage error: retrying without a change cannot help
CHECK_TIMEOUT = 5  # seconds to wait for a service to answer at start-up
USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:/*)[^@]*@")


def fail(message: str) -> NoReturn:
    print(f"suite_ai cannot start: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CONFIGURATION)


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].strip()


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Run start-up code; a configuration error (or, from a command, a database that does not
    answer) ends the process with one line naming the variable, and status 2."""
    from django.db.utils import OperationalError

    try:
        yield
    except ImproperlyConfigured as error:
        fail(first_line(error))
    except OperationalError as error:
        fail(f"DATABASE_URL={database_url()}: {first_line(error)}")


def load_settings() -> None:
    """Read the settings now, inside ``reported()``, rather than at their first use deep inside a
    framework's start-up (where Django swallows the error or Celery prints a traceback)."""
    from django.conf import settings

    with reported():
        settings.INSTALLED_APPS  # noqa: B018 (the first attribute read runs suite_ai/settings.py)


def redacted(url: str) -> str:
    """The URL without its password, query or fragment (they may hold credentials)."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    try:
        parts = urlsplit(base)
    except ValueError:
        parts = None
    if parts is not None and parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        return base.replace(parts.netloc, f"{parts.username or ''}:***@{host}", 1)
    # Malformed (``redis:/:secret@host``): whatever precedes an "@" may be a credential.
    return USERINFO.sub(r"\1***@", base) if "@" in base else base


def database_url() -> str:
    from django.conf import settings

    return redacted(str(settings.DATABASE_URL))


def database_problem() -> str | None:
    """Why the configured database cannot be used, or None. A connection of its own, outside the
    pool (whose ``getconn`` would wait SUITE_AI_DB_POOL_TIMEOUT on a server that does not answer)."""
    from django.db import connections
    from django.db.utils import DatabaseError, load_backend

    params = copy.deepcopy(connections["default"].settings_dict)
    options = params.setdefault("OPTIONS", {})
    options.pop("pool", None)
    if params["ENGINE"] == "django.db.backends.postgresql":
        options.setdefault("connect_timeout", CHECK_TIMEOUT)
    wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, "startup-check")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return f"DATABASE_URL={database_url()}: the database does not answer ({first_line(error)})"
    finally:
        wrapper.close()
    return None


def redis_problem(variable: str, url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{variable}={redacted(url)}: Redis does not answer ({first_line(error)})"
    finally:
        client.close()
    return None


def service_problems() -> list[str]:
    """What the processes need and cannot reach: the database, and Redis where it is configured."""
    from django.conf import settings

    problems = [database_problem()]
    for variable in ("CELERY_BROKER_URL", "REDIS_URL"):
        url = getattr(settings, variable, None)
        if url and urlsplit(url).scheme in {"redis", "rediss"}:
            problems.append(redis_problem(variable, url))
    return [problem for problem in problems if problem]
