"""Django settings for suite_ai, read from the environment (12-factor).

Every setting has a safe default for the embedded mode: with no configuration the
service runs on SQLite and an embedded Celery transport kept under SUITE_AI_DATA_DIR.
Secrets may also be given as files, with the ``<NAME>_FILE`` convention used by Docs.
"""

from __future__ import annotations

import math
import os
import secrets
import stat
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from suite_ai.llm import prompts
from suite_ai.startup import redacted

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Reading the environment ----------------------------------------------------------------------
# Every variable goes through one of these helpers, and each refuses a value it cannot use with an
# ImproperlyConfigured that names the variable and what it expects. manage.py, serve, the ASGI app
# and the Celery app print that message as one line and exit 2 (suite_ai/startup.py): a typo stops
# the start-up there, instead of a traceback, or a job failing an hour later.
# An empty value counts as unset (compose files pass ``NAME=`` for "not configured").


def env(name: str, default: str | None = None) -> str | None:
    """NAME's value; NAME_FILE, the path of a file holding it (mounted secrets), takes precedence
    over NAME, as in Docs (django-lasuite's SecretFileValue)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {path!r} ({error.strerror or error});"
                f" expected a readable file holding {name}."
            ) from None
    else:
        value = os.environ.get(name, "")
    return value if value != "" else default


def invalid(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}: {value!r} is not valid; expected {expected}.")


Parsed = TypeVar("Parsed")  # not upper case: Django would take it for a setting


def env_parsed(name: str, default: Parsed, parse: Callable[[str], Parsed], expected: str) -> Parsed:
    """NAME through ``parse``, which raises ValueError on a value it refuses."""
    value = env(name)
    if value is None:
        return default
    try:
        return parse(value.strip())
    except ValueError:
        raise invalid(name, value, expected) from None


def env_bool(name: str, default: bool) -> bool:
    def parse(raw: str) -> bool:
        word = raw.lower()
        if word not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise ValueError(raw)
        return word in {"1", "true", "yes", "on"}

    return env_parsed(name, default, parse, "true or false (also 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    def parse(raw: str) -> int:
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(raw)
        return value

    bounds = ""
    if minimum is not None:
        bounds = f" from {minimum} to {maximum}" if maximum is not None else f" ({minimum} or more)"
    return env_parsed(name, default, parse, f"a whole number{bounds}")


def env_float(name: str, default: float, *, minimum: float | None = None, positive: bool = False) -> float:
    def parse(raw: str) -> float:
        value = float(raw)
        if not math.isfinite(value) or (positive and value <= 0) or (minimum is not None and value < minimum):
            raise ValueError(raw)
        return value

    bounds = " greater than 0" if positive else f" ({minimum:g} or more)" if minimum is not None else ""
    return env_parsed(name, default, parse, f"a number{bounds}")


def env_seconds(name: str, default: float) -> float:
    """A duration in seconds, greater than 0 (a zero timeout or interval is never what is meant)."""
    return env_float(name, default, positive=True)


def env_list(
    name: str,
    default: list[str] | None = None,
    *,
    item: Callable[[str], str] | None = None,
    expected: str = "comma-separated values",
) -> list[str]:
    """NAME as comma-separated values, each through ``item`` (raising ValueError) when given."""
    value = env(name)
    if value is None:
        return list(default or [])
    items = [part.strip() for part in value.split(",") if part.strip()]
    for part in items:
        try:
            if item is not None:
                item(part)
        except ValueError:
            raise invalid(name, part, expected) from None
    return items


def env_pairs(
    name: str, parse: Callable[[str], Parsed], expected: str, *, keys: Collection[str] | None = None
) -> dict[str, Parsed]:
    """NAME as comma-separated ``key=value`` pairs, each value through ``parse`` (which raises
    ValueError on a bad one), each key among ``keys`` when given. A malformed pair stops the
    start-up with the variable's name and what it expects, rather than a job failing later."""
    pairs: dict[str, Parsed] = {}
    for item in env_list(name):
        key, equals, raw = (part.strip() for part in item.partition("="))
        try:
            if not (key and equals and raw):
                raise ValueError(item)
            pairs[key] = parse(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not valid; expected {expected}.") from None
        if keys is not None and key not in keys:
            raise ImproperlyConfigured(f"{name}: unknown {key!r}; expected {expected}, among: {', '.join(keys)}.")
    return pairs


def env_choice(
    name: str, choices: Collection[str], default: str | None = None, *, fold_case: bool = False
) -> str | None:
    value = env(name)
    if value is None:
        return default
    chosen = value.strip().upper() if fold_case else value.strip()
    if chosen not in choices:
        raise ImproperlyConfigured(f"{name}: {value!r} is not valid; expected one of: {', '.join(choices)}.")
    return chosen


def env_url(name: str, default: str | None = None, *, schemes: Collection[str] = ("http", "https")) -> str | None:
    """An absolute URL with one of ``schemes`` and a host; the message shows it without its password."""
    value = env(name)
    if value is None:
        return default
    url = value.strip()
    try:
        parts = urlsplit(url)
        valid = parts.scheme.lower() in schemes and bool(parts.hostname)
        parts.port  # noqa: B018 (a non-numeric port raises ValueError here)
    except ValueError:
        valid = False
    if not valid:
        example = {"http": "https://host[:port][/path]", "redis": "redis://host:6379/0"}.get(next(iter(schemes)), "")
        raise ImproperlyConfigured(
            f"{name}: {redacted(url)!r} is not valid; expected a {' or '.join(f'{s}://' for s in schemes)} URL"
            f" with a host{f', e.g. {example}' if example else ''}."
        )
    return url


def positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(raw)
    return value


def per_minute_limits(raw: str) -> tuple[int, int]:
    """``requests/tokens`` per minute; either may be left out or 0 (no limit)."""
    requests, slash, tokens = raw.partition("/")
    limits = (int(requests or 0), int(tokens or 0) if slash else 0)
    if min(limits) < 0 or (slash and not tokens):
        raise ValueError(raw)
    return limits


def upstream_base_url(raw: str) -> str:
    """An OpenAI/Mistral-compatible base URL, with or without its ``/v1`` (gateways document it
    both ways); kept without it, as MISTRAL_SERVER_URL."""
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(raw)
    return raw.rstrip("/").removesuffix("/v1")


def route_targets(raw: str) -> tuple[tuple[str, str], ...]:
    """``upstream:model|upstream:model…``, in the order they are tried."""
    targets = []
    for target in raw.split("|"):
        upstream, colon, model = (part.strip() for part in target.partition(":"))
        if not (upstream and colon and model):
            raise ValueError(raw)
        targets.append((upstream, model))
    return tuple(targets)


def http_origin(raw: str) -> str:
    """``scheme://host[:port]``, what Django's CSRF_TRUSTED_ORIGINS accepts."""
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(raw)
    return raw


# Django REST framework's periods (suite_ai/jobs/throttling.py reads the same words).
RATE_PERIODS = ("s", "sec", "m", "min", "h", "hour", "d", "day")


def rate(raw: str) -> str:
    """``<count>/<period>``, e.g. ``120/min``."""
    count, slash, period = raw.partition("/")
    if not slash or int(count) < 1 or period.strip().lower() not in RATE_PERIODS:
        raise ValueError(raw)
    return raw


# The data directory holds the inputs and results (SQLite), broker messages, metrics and the
# secret key: private to the service's user. Every process that loads these settings creates its
# files 0600 and its folders 0700 (SQLite gives its -wal and -shm files the database file's mode).
PRIVATE_UMASK = 0o077


def private(path: Path) -> None:
    """Take the group's and others' rights off ``path`` when this user owns it (a directory or file
    kept from an older release, created 0755/0644); another owner's is left as the operator set it."""
    try:
        status = path.lstat()  # a symbolic link is followed by nobody here: left alone
        if status.st_uid == os.geteuid() and status.st_mode & 0o077 and not stat.S_ISLNK(status.st_mode):
            path.chmod(status.st_mode & 0o700)
    except OSError:
        pass  # gone, or not ours to change: the directory's own mode still closes it


def data_dir() -> Path:
    os.umask(PRIVATE_UMASK)
    path = Path(env("SUITE_AI_DATA_DIR", "var") or "var")
    path = path if path.is_absolute() else BASE_DIR / path
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"SUITE_AI_DATA_DIR: cannot create {str(path)!r} ({error.strerror or error});"
            " expected a writable directory."
        ) from None
    private(path)
    for child in path.iterdir():
        private(child)
    return path


DATA_DIR = data_dir()


def _embedded_mode() -> bool:
    """No database or broker server configured: every process of the service shares DATA_DIR."""
    database = env("DATABASE_URL") or "sqlite:"
    broker = env("CELERY_BROKER_URL") or "filesystem:"
    return database.startswith("sqlite:") and broker.startswith("filesystem:")


def _secret_key() -> str:
    """DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE). Without one, the embedded mode (``make run``)
    generates a random key kept in the data dir. Outside it (a database or broker server named) the
    start-up stops instead, unless DJANGO_DEBUG is on: a key kept in one data dir is only shared by
    the processes that share that dir, so web and workers on other machines or containers would
    not read what the others signed or encrypted (job credentials); and a default known to all,
    like the one compose used to give, lets anyone forge them."""
    configured = env("DJANGO_SECRET_KEY")
    if configured:
        return configured
    if not _embedded_mode() and not env_bool("DJANGO_DEBUG", False):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DATABASE_URL or CELERY_BROKER_URL names a "
            "server: set the same random value (or DJANGO_SECRET_KEY_FILE) for the web, worker and beat "
            "processes, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'. "
            "(Only the embedded mode, or DJANGO_DEBUG=true, generates one in SUITE_AI_DATA_DIR.)"
        )
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
# /playground/ signs whoever opens it in as a development user with a fresh local token: on by
# default only where the service is a developer's own (the embedded mode, or DEBUG).
SUITE_AI_PLAYGROUND = env_bool("SUITE_AI_PLAYGROUND", _embedded_mode() or DEBUG)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_FAILURE_VIEW = "suite_ai.api_errors.csrf_failure_view"  # JSON with a code, like every error
CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", item=http_origin, expected="comma-separated origins, e.g. https://docs.example.org"
)
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST", False)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS, sent by Django's SecurityMiddleware on HTTPS requests only (behind a TLS proxy: with
# DJANGO_SECURE_PROXY_SSL_HEADER), so a plain-HTTP `make run` never sends it. 0 turns it off.
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "suite_ai.accounts",
    "suite_ai.jobs",
    "suite_ai.audit",
    "suite_ai.model_endpoint",
    "suite_ai.playground",
]

MIDDLEWARE = [
    # First, so that a CORS preflight is answered before anything asks for credentials, and every
    # answer (errors included: a browser hides an error body without them) gets the CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    # Outside whitenoise (inserted below, after SecurityMiddleware): static files get a policy too.
    "suite_ai.security_headers.content_security_policy",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of messages, from Accept-Language (Django's LocaleMiddleware, less its URL
    # prefixes); before CommonMiddleware, which refuses a Host header not in ALLOWED_HOSTS, so
    # that refusal is answered in that language too.
    "suite_ai.languages.request_language",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "suite_ai.urls"
WSGI_APPLICATION = "suite_ai.wsgi.application"
ASGI_APPLICATION = "suite_ai.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database -------------------------------------------------------------------------------------
# Postgres uses a connection pool: worker threads return their connection while they wait on the
# model, so hundreds of jobs in flight hold no connection. SQLite runs in WAL mode with
# IMMEDIATE transactions so concurrent worker threads queue on the write lock instead of failing.
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'suite_ai.sqlite3'}"


def database(url: str) -> dict[str, Any]:
    """DATABASE_URL as Django's database settings: SQLite (a file) or PostgreSQL, what the service runs on."""
    expected = "sqlite:////path/to/file.sqlite3 or postgres://user:password@host:5432/name"
    try:
        parsed: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError:
        raise invalid("DATABASE_URL", redacted(url), expected) from None
    engine, name = parsed["ENGINE"], parsed.get("NAME") or ""
    sqlite = engine == "django.db.backends.sqlite3" and name not in {"", ":memory:"}  # a file the processes share
    if not (sqlite or (engine == "django.db.backends.postgresql" and name)):
        raise invalid("DATABASE_URL", redacted(url), expected)
    return parsed


_database = database(DATABASE_URL)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif env_bool("SUITE_AI_DB_POOL", True):
    _pool_min = env_int("SUITE_AI_DB_POOL_MIN", 2, minimum=0)
    _pool_max = env_int("SUITE_AI_DB_POOL_MAX", 20, minimum=1)
    if _pool_min > _pool_max:
        raise ImproperlyConfigured(
            f"SUITE_AI_DB_POOL_MIN: {_pool_min} is above SUITE_AI_DB_POOL_MAX ({_pool_max}); expected at most that."
        )
    # Added to the URL's own options (``?sslmode=require``…), not in their place.
    _database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": _pool_min,
        "max_size": _pool_max,
        "timeout": env_seconds("SUITE_AI_DB_POOL_TIMEOUT", 10.0),
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis ----------------------------------------------------------------------------------------
# The submission throttles and the model rate limiter shared by the workers; neither goes through
# Django's cache (see suite_ai/jobs/throttling.py), so no CACHES is configured.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

TIME_ZONE = "UTC"
USE_TZ = True

# --- Languages of messages ------------------------------------------------------------------------
# Error messages follow the request's Accept-Language, French or English (suite_ai/languages.py).
# Without that header, English: every browser sends it, so the agents' editor gets French from
# their browser; a request without it comes from a script or a backend, whose readers are
# developers working from this English API documentation and logs.
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "suite_ai" / "locale"]

# --- Static files (whitenoise) --------------------------------------------------------------------
# The app serves its own static files (Swagger UI, ReDoc, the admin) in every mode, offline, with
# no web server in front needed. Where from:
# - SUITE_AI_STATIC_ROOT set (the image: the Dockerfile collects there at build): from that
#   directory, with hashed names (cached by browsers for good) and gzip variants. It is not in
#   SUITE_AI_DATA_DIR: a volume mounted there would hide it, or keep an older release's files.
# - unset (a source checkout: ``make run``, the tests): straight from the installed packages,
#   through Django's finders, so a fresh clone, or an upgraded package, needs no collectstatic.
STATIC_URL = "static/"
_collected_static = env("SUITE_AI_STATIC_ROOT")
STATIC_ROOT = Path(_collected_static) if _collected_static else None
WHITENOISE_USE_FINDERS = not _collected_static
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _collected_static
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Right after SecurityMiddleware, where whitenoise documents it: before anything that would spend
# time (sessions, authentication) on a static file.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
)

# --- Celery ---------------------------------------------------------------------------------------
# The broker only carries job ids; the database is the truth (see jobs.reconcile).
# kombu's transports: the embedded one (with the fixes in suite_ai/jobs/transports.py), Redis, AMQP.
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "filesystem://"
if not CELERY_BROKER_URL.startswith("filesystem://"):
    env_url("CELERY_BROKER_URL", schemes=("redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp"))
CELERY_BROKER_POLL_INTERVAL = env_seconds("SUITE_AI_BROKER_POLL_INTERVAL", 0.05)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "suite_ai.jobs.transports:FilesystemTransport"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control", "wake"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # Where workers bind the sockets a new message wakes them on; the poll is the fallback.
        "wake_folder": str(_broker_dir / "wake"),
        "polling_interval": CELERY_BROKER_POLL_INTERVAL,
    }
else:
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_TRANSPORT = "suite_ai.jobs.transports:RedisTransport"
    # The visibility timeout must exceed the longest job plus its longest re-schedule delay,
    # or Redis hands a running job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("SUITE_AI_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1),
        "polling_interval": CELERY_BROKER_POLL_INTERVAL,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "suite_ai"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
_RECONCILE_INTERVAL = env_seconds("SUITE_AI_RECONCILE_INTERVAL", 15.0)
CELERY_BEAT_SCHEDULE = {
    "reconcile-jobs": {
        "task": "suite_ai.jobs.tasks.reconcile_jobs",
        "schedule": _RECONCILE_INTERVAL,
        # Runs sent while no worker was up are dropped, not run all at once when one starts.
        "options": {"expires": 4 * _RECONCILE_INTERVAL},
    },
    "purge-jobs": {
        "task": "suite_ai.jobs.tasks.purge_jobs",
        "schedule": 3600.0,
    },
    "purge-audit-records": {
        "task": "suite_ai.jobs.tasks.purge_audit_records",
        "schedule": 86400.0,
    },
}

# --- Jobs -----------------------------------------------------------------------------------------
SUITE_AI_WORKER_CONCURRENCY = env_int("SUITE_AI_WORKER_CONCURRENCY", 256, minimum=1)
SUITE_AI_MAX_INPUT_BYTES = env_int("SUITE_AI_MAX_INPUT_BYTES", 2 * 1024 * 1024, minimum=1)
SUITE_AI_MAX_YDOC_BYTES = env_int("SUITE_AI_MAX_YDOC_BYTES", 10 * 1024 * 1024, minimum=1)
# Bounds on a Yjs update checked before pycrdt reads it (suite_ai/blocknote/yjs/guard.py): some
# updates crash pycrdt natively, which no exception handler catches. A Docs document nests about two
# types per block level; the maximum keeps the Python readers far from the recursion limit.
SUITE_AI_MAX_YDOC_DEPTH = env_int("SUITE_AI_MAX_YDOC_DEPTH", 256, minimum=8, maximum=1000)
SUITE_AI_MAX_YDOC_STRUCTS = env_int("SUITE_AI_MAX_YDOC_STRUCTS", 2_000_000, minimum=1)
SUITE_AI_MAX_YDOC_STRING_BYTES = env_int("SUITE_AI_MAX_YDOC_STRING_BYTES", 4 * 1024 * 1024, minimum=1)
# BlockNote blocks nested in blocks (children); the readers and writers recurse per level.
SUITE_AI_MAX_BLOCK_DEPTH = env_int("SUITE_AI_MAX_BLOCK_DEPTH", 100, minimum=1, maximum=300)
SUITE_AI_MAX_ATTEMPTS = env_int("SUITE_AI_MAX_ATTEMPTS", 5, minimum=1)
SUITE_AI_HEARTBEAT_INTERVAL = env_seconds("SUITE_AI_HEARTBEAT_INTERVAL", 10.0)
SUITE_AI_HEARTBEAT_TIMEOUT = env_seconds("SUITE_AI_HEARTBEAT_TIMEOUT", 60.0)
if SUITE_AI_HEARTBEAT_TIMEOUT <= SUITE_AI_HEARTBEAT_INTERVAL:
    # Otherwise the reconciler takes back jobs whose worker is alive and well.
    raise ImproperlyConfigured(
        f"SUITE_AI_HEARTBEAT_TIMEOUT: {SUITE_AI_HEARTBEAT_TIMEOUT:g} is not valid; expected more than"
        f" SUITE_AI_HEARTBEAT_INTERVAL ({SUITE_AI_HEARTBEAT_INTERVAL:g} s)."
    )
SUITE_AI_QUEUED_REDELIVERY_AFTER = env_seconds("SUITE_AI_QUEUED_REDELIVERY_AFTER", 300.0)
SUITE_AI_JOB_TIMEOUT = env_seconds("SUITE_AI_JOB_TIMEOUT", 1800.0)
SUITE_AI_RETENTION_DAYS = env_int("SUITE_AI_RETENTION_DAYS", 30, minimum=1)
# The audit trail holds who did what (a user's subject and e-mail, never text) and outlives the
# jobs it describes: kept this long after each job ended, then deleted by the daily purge.
SUITE_AI_AUDIT_RETENTION_DAYS = env_int("SUITE_AI_AUDIT_RETENTION_DAYS", 365, minimum=1)
if SUITE_AI_AUDIT_RETENTION_DAYS < SUITE_AI_RETENTION_DAYS:
    raise ImproperlyConfigured(
        f"SUITE_AI_AUDIT_RETENTION_DAYS: {SUITE_AI_AUDIT_RETENTION_DAYS} is not valid; expected at least"
        f" SUITE_AI_RETENTION_DAYS ({SUITE_AI_RETENTION_DAYS}): a job's audit record outlives the job."
    )
# A job re-scheduled again and again (a model down, a worker lost each time) keeps its input text;
# past this age (from its submission) the reconciler fails it, and the purge removes it in time.
SUITE_AI_MAX_RUNNING_AGE = env_seconds("SUITE_AI_MAX_RUNNING_AGE", 86400.0)
if SUITE_AI_MAX_RUNNING_AGE >= SUITE_AI_RETENTION_DAYS * 86400:
    raise ImproperlyConfigured(
        f"SUITE_AI_MAX_RUNNING_AGE: {SUITE_AI_MAX_RUNNING_AGE:.10g} is not valid; expected less than"
        f" SUITE_AI_RETENTION_DAYS ({SUITE_AI_RETENTION_DAYS} days = {SUITE_AI_RETENTION_DAYS * 86400} s)."
    )
# How long a job keeps being retried, with backoff, while the model is down (5xx, unreachable,
# silent), counted from its submission: minutes, so that an outage does not fail every job.
SUITE_AI_MODEL_RETRY_BUDGET = env_seconds("SUITE_AI_MODEL_RETRY_BUDGET", 600.0)
if SUITE_AI_MODEL_RETRY_BUDGET >= SUITE_AI_MAX_RUNNING_AGE:
    raise ImproperlyConfigured(
        f"SUITE_AI_MODEL_RETRY_BUDGET: {SUITE_AI_MODEL_RETRY_BUDGET:.10g} is not valid; expected less than"
        f" SUITE_AI_MAX_RUNNING_AGE ({SUITE_AI_MAX_RUNNING_AGE:.10g} s)."
    )
SUITE_AI_EVENT_FLUSH_INTERVAL = env_seconds("SUITE_AI_EVENT_FLUSH_INTERVAL", 0.2)
SUITE_AI_SUBMIT_RATE = env_parsed(
    "SUITE_AI_SUBMIT_RATE",
    "120/min",
    rate,
    f"submissions per period, e.g. 120/min (periods: {', '.join(RATE_PERIODS)})",
)
SUITE_AI_EXTRACTIVE_FALLBACK = env_bool("SUITE_AI_EXTRACTIVE_FALLBACK", False)
# Jobs of one user running at once (0: no cap); the others wait queued without holding a worker
# thread, and other users' jobs run past them.
SUITE_AI_MAX_RUNNING_PER_USER = env_int("SUITE_AI_MAX_RUNNING_PER_USER", 0, minimum=0)
# Model tokens (prompt + completion) per UTC day, per user and per document (0: no quota).
SUITE_AI_DAILY_TOKENS_PER_USER = env_int("SUITE_AI_DAILY_TOKENS_PER_USER", 0, minimum=0)
SUITE_AI_DAILY_TOKENS_PER_DOCUMENT = env_int("SUITE_AI_DAILY_TOKENS_PER_DOCUMENT", 0, minimum=0)

# --- Docs' ai-proxy: BlockNote's AI extension (suite_ai.docs_ai_proxy) -------------------------------
# Its rates are those of Docs' other AI paths (SUITE_AI_DOCS_AI_USER_RATES / _DOCUMENT_RATES).
# The request carries the whole document (documentState): larger bodies are refused with 413.
SUITE_AI_PROXY_MAX_BODY_BYTES = env_int("SUITE_AI_PROXY_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024)
# The Vercel AI SDK major the stream is encoded for (Docs' AI_VERCEL_SDK_VERSION).
SUITE_AI_PROXY_SDK_VERSION = env_int("SUITE_AI_PROXY_SDK_VERSION", 6, minimum=5, maximum=7)


# --- Event streams (SSE) --------------------------------------------------------------------------
# A stream is woken by a notification (Redis pub/sub with REDIS_URL; otherwise datagrams between the
# processes of one machine); the sweep asks the database for what a lost notification would hide.
SUITE_AI_SSE_HEARTBEAT = env_seconds("SUITE_AI_SSE_HEARTBEAT", 15.0)
SUITE_AI_SSE_MAX_DURATION = env_seconds("SUITE_AI_SSE_MAX_DURATION", 300.0)
SUITE_AI_SSE_SWEEP_INTERVAL = env_seconds("SUITE_AI_SSE_SWEEP_INTERVAL", 5.0)
# Threads of a web process for the streams' database reads (and as many for bearer checks).
SUITE_AI_SSE_DB_THREADS = env_int("SUITE_AI_SSE_DB_THREADS", 2, minimum=1)
# Lifetime of the ticket in ``links.events`` (seconds): long enough for EventSource to reconnect
# during a long job, short enough that a URL seen in a proxy's log soon opens nothing.
SUITE_AI_SSE_TICKET_TTL = env_int("SUITE_AI_SSE_TICKET_TTL", 900, minimum=1)

# --- Health: workers ------------------------------------------------------------------------------
# Workers beat every SUITE_AI_HEARTBEAT_INTERVAL, idle or not; /health/ready calls them stale past
# this many seconds and answers 503 then (or with none at all), unless told not to require one.
SUITE_AI_WORKER_STALE_AFTER = env_float("SUITE_AI_WORKER_STALE_AFTER", 3 * SUITE_AI_HEARTBEAT_INTERVAL)
SUITE_AI_READY_NEEDS_WORKER = env_bool("SUITE_AI_READY_NEEDS_WORKER", True)

# --- Model gateway --------------------------------------------------------------------------------
MISTRAL_API_KEY = env("MISTRAL_API_KEY")
# Warnings about values the settings corrected; JobsConfig.ready logs them once per process.
CONFIGURATION_WARNINGS: list[str] = []


def model_server_url(name: str) -> str | None:
    """A Mistral-compatible base URL. The SDK appends ``/v1/chat/completions`` itself, and gateways
    document their URL with ``/v1`` (Albert: ``https://albert.api.etalab.gouv.fr/v1``): that suffix
    is removed with a warning rather than every job failing on ``…/v1/v1/chat/completions``."""
    url = env_url(name)
    if url is None:
        return None
    base = url.rstrip("/")
    if base.endswith("/v1"):
        base = base.removesuffix("/v1")
        CONFIGURATION_WARNINGS.append(
            f"{name}: {redacted(url)!r} ends with /v1, which the Mistral SDK adds itself; using {redacted(base)!r}."
        )
    return base


MISTRAL_SERVER_URL = model_server_url("MISTRAL_SERVER_URL")
MISTRAL_MODEL = env("MISTRAL_MODEL", "mistral-small-latest")
MISTRAL_MODEL_LONG = env("MISTRAL_MODEL_LONG", "mistral-large-latest")
MISTRAL_CONTEXT_TOKENS = env_int("MISTRAL_CONTEXT_TOKENS", 0, minimum=0)  # 0: each model's known window
MISTRAL_TIMEOUT = env_seconds("MISTRAL_TIMEOUT", 120.0)
SUITE_AI_CHUNK_TOKENS = env_int("SUITE_AI_CHUNK_TOKENS", 8000, minimum=1)
SUITE_AI_MAX_INPUT_TOKENS = env_int("SUITE_AI_MAX_INPUT_TOKENS", 400_000, minimum=1)
SUITE_AI_MAP_CONCURRENCY = env_int("SUITE_AI_MAP_CONCURRENCY", 16, minimum=1)
SUITE_AI_MODEL_RPM = env_int("SUITE_AI_MODEL_RPM", 0, minimum=0)  # 0: no limit configured
SUITE_AI_MODEL_TPM = env_int("SUITE_AI_MODEL_TPM", 0, minimum=0)
# "note=mistral-large-latest,translate=…": the model of one action, over MISTRAL_MODEL(_LONG);
# "ai_proxy=…": the model of Docs' ai-proxy stream (suite_ai.docs_ai_proxy), over MISTRAL_MODEL.
SUITE_AI_ACTION_MODELS = env_pairs(
    "SUITE_AI_ACTION_MODELS",
    str,
    "action=model pairs, e.g. note=mistral-large-latest",
    keys=(*prompts.PROMPTS, "ai_proxy"),
)
# "albert-large=60/500000,…": one model's requests/tokens per minute, over SUITE_AI_MODEL_RPM/TPM.
SUITE_AI_MODEL_LIMITS = env_pairs(
    "SUITE_AI_MODEL_LIMITS",
    per_minute_limits,
    "model=requests/tokens per minute pairs, e.g. albert-large=60/500000 (0 or nothing: no limit)",
)
# "albert-large=128000,…": one model's context window, over MISTRAL_CONTEXT_TOKENS.
MISTRAL_CONTEXT_TOKENS_BY_MODEL = env_pairs(
    "MISTRAL_CONTEXT_TOKENS_BY_MODEL", positive_int, "model=tokens pairs, e.g. albert-large=128000"
)
# The language of the instructions to the model; unset: the text's own (French unless clearly English).
SUITE_AI_PROMPT_LANG = env_choice("SUITE_AI_PROMPT_LANG", prompts.LANGS)

# --- The model endpoint (/v1/chat/completions, for Docs' backend) ---------------------------------
# Upstreams besides "mistral" (MISTRAL_SERVER_URL, MISTRAL_API_KEY): "albert=https://albert.api.etalab.gouv.fr".
SUITE_AI_MODEL_UPSTREAMS = env_pairs(
    "SUITE_AI_MODEL_UPSTREAMS",
    upstream_base_url,
    "name=base URL pairs, e.g. albert=https://albert.api.etalab.gouv.fr",
)
# Their API keys, "albert=<key>" (a secret: SUITE_AI_MODEL_UPSTREAM_KEYS_FILE works too).
SUITE_AI_MODEL_UPSTREAM_KEYS = env_pairs("SUITE_AI_MODEL_UPSTREAM_KEYS", str, "name=API key pairs, e.g. albert=…")
# "mistral-small-latest=albert:albert-large|mistral:mistral-small-latest": the model a client asks
# for, served by the first of these upstream:model that answers. Unset: MISTRAL_MODEL and
# MISTRAL_MODEL_LONG, each on "mistral" under its own name.
SUITE_AI_MODEL_ROUTES = env_pairs(
    "SUITE_AI_MODEL_ROUTES",
    route_targets,
    "model=upstream:model|upstream:model… pairs,"
    " e.g. mistral-small-latest=albert:albert-large|mistral:mistral-small-latest",
)
# The longest a call waits, in all, for the shared limiter and the upstreams' Retry-After before
# it moves on to the next upstream, or answers 429 with the wait.
SUITE_AI_MODEL_ENDPOINT_MAX_WAIT = env_float("SUITE_AI_MODEL_ENDPOINT_MAX_WAIT", 10.0, minimum=0)
_unknown_upstreams = sorted(
    {upstream for targets in SUITE_AI_MODEL_ROUTES.values() for upstream, _model in targets}
    - {"mistral", *SUITE_AI_MODEL_UPSTREAMS}
)
if _unknown_upstreams:
    raise ImproperlyConfigured(
        f"SUITE_AI_MODEL_ROUTES: unknown upstream {', '.join(map(repr, _unknown_upstreams))};"
        " expected mistral or a name of SUITE_AI_MODEL_UPSTREAMS."
    )

# --- La Suite Docs --------------------------------------------------------------------------------
DOCS_BASE_URL = env_url("DOCS_BASE_URL")
DOCS_SERVER_TO_SERVER_TOKEN = env("DOCS_SERVER_TO_SERVER_TOKEN")
DOCS_TIMEOUT = env_seconds("DOCS_TIMEOUT", 20.0)
# Where people open Docs, when suite_ai reaches it at another address (an internal hostname).
DOCS_PUBLIC_URL = env_url("DOCS_PUBLIC_URL")
# How notes are written: "child" (a child document, Yjs content written by suite_ai), "child_upload"
# (a child created from a markdown upload; needs Docs' CONVERSION_UPLOAD_ENABLED) or "owner_root"
# (a root document owned by the user, with DOCS_SERVER_TO_SERVER_TOKEN).
SUITE_AI_NOTE_MODE = env_choice("SUITE_AI_NOTE_MODE", ("child", "child_upload", "owner_root"), "child")
SUITE_AI_SERVICE_TOKENS = env_list("SUITE_AI_SERVICE_TOKENS")
# Docs' browser session as a credential (suite_ai/accounts/docs_session.py): on whenever
# DOCS_BASE_URL is set, unless turned off here.
SUITE_AI_DOCS_SESSION_AUTH = env_bool("SUITE_AI_DOCS_SESSION_AUTH", True)
DOCS_SESSION_COOKIE_NAME = env("DOCS_SESSION_COOKIE_NAME", "docs_sessionid")
# How long Docs' answers about a session (users/me, a document's abilities) are reused.
SUITE_AI_DOCS_SESSION_CACHE = env_seconds("SUITE_AI_DOCS_SESSION_CACHE", 30.0)
# Docs' own AI paths (ai-transform, ai-translate): requests per minute, hour and day, per user and
# per document. The defaults are Docs' (AIUserRateThrottle, AIDocumentRateThrottle).
_DOCS_AI_PERIODS = ("minute", "hour", "day")
SUITE_AI_DOCS_AI_USER_RATES = {
    "minute": 3,
    "hour": 50,
    "day": 200,
    **env_pairs(
        "SUITE_AI_DOCS_AI_USER_RATES", positive_int, "period=count pairs, e.g. minute=3", keys=_DOCS_AI_PERIODS
    ),
}
SUITE_AI_DOCS_AI_DOCUMENT_RATES = {
    "minute": 5,
    "hour": 100,
    "day": 500,
    **env_pairs(
        "SUITE_AI_DOCS_AI_DOCUMENT_RATES", positive_int, "period=count pairs, e.g. minute=5", keys=_DOCS_AI_PERIODS
    ),
}
# How long a request on those paths waits for its job before answering 504 (the job is cancelled).
SUITE_AI_DOCS_AI_WAIT = env_seconds("SUITE_AI_DOCS_AI_WAIT", 120.0)

# --- OIDC resource server (django-lasuite; same names as in Docs) ---------------------------------
OIDC_OP_URL = env_url("OIDC_OP_URL")
OIDC_OP_INTROSPECTION_ENDPOINT = env_url("OIDC_OP_INTROSPECTION_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_url("OIDC_OP_JWKS_ENDPOINT")
OIDC_RS_BACKEND_CLASS = env("OIDC_RS_BACKEND_CLASS", "suite_ai.accounts.oidc.UserCreatingResourceServerBackend")
OIDC_RS_CLIENT_ID = env("OIDC_RS_CLIENT_ID")
OIDC_RS_CLIENT_SECRET = env("OIDC_RS_CLIENT_SECRET")
OIDC_RS_AUDIENCE_CLAIM = env("OIDC_RS_AUDIENCE_CLAIM", "client_id")
OIDC_RS_ALLOWED_AUDIENCES = env_list("OIDC_RS_ALLOWED_AUDIENCES")
OIDC_RS_SCOPES = env_list("OIDC_RS_SCOPES", ["openid"])
OIDC_RS_SIGNING_ALGO = env("OIDC_RS_SIGNING_ALGO", "ES256")
OIDC_RS_ENCRYPTION_ALGO = env("OIDC_RS_ENCRYPTION_ALGO", "RSA-OAEP")
OIDC_RS_ENCRYPTION_ENCODING = env("OIDC_RS_ENCRYPTION_ENCODING", "A256GCM")
OIDC_RS_ENCRYPTION_KEY_TYPE = env("OIDC_RS_ENCRYPTION_KEY_TYPE", "RSA")
OIDC_RS_PRIVATE_KEY_STR = env("OIDC_RS_PRIVATE_KEY_STR")
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
OIDC_TIMEOUT = env_seconds("OIDC_TIMEOUT", 3.0)
OIDC_PROXY = None
OIDC_RESOURCE_SERVER_ENABLED = bool(OIDC_OP_INTROSPECTION_ENDPOINT and OIDC_RS_CLIENT_ID)

# --- API ------------------------------------------------------------------------------------------
# Each class claims only the bearer tokens it recognises: local ``sai_…`` tokens, service tokens,
# then OIDC access tokens (introspected).
AUTHENTICATION_CLASSES = ["suite_ai.accounts.authentication.ApiTokenAuthentication"]
if SUITE_AI_SERVICE_TOKENS:
    AUTHENTICATION_CLASSES.append("suite_ai.accounts.oidc.ServiceTokenAuthentication")
if OIDC_RESOURCE_SERVER_ENABLED:
    AUTHENTICATION_CLASSES.append("suite_ai.accounts.oidc.OIDCResourceServerAuthentication")
if DOCS_BASE_URL and SUITE_AI_DOCS_SESSION_AUTH:
    # Last: only a request without an Authorization header, carrying Docs' session cookie.
    AUTHENTICATION_CLASSES.append("suite_ai.accounts.docs_session.DocsSessionAuthentication")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": AUTHENTICATION_CLASSES,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["suite_ai.api_parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "suite_ai.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# A request body larger than this is refused by Django before DRF parses it; keep a margin
# above the input limit so the API answers 413 input_too_large with the limit in the message.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(SUITE_AI_MAX_INPUT_BYTES, SUITE_AI_MAX_YDOC_BYTES * 4 // 3) + 64 * 1024

# --- CORS (browser clients on other origins: the Docs editor) ----------------------------------------
# Only the listed origins, only the API. Bearer tokens travel in the Authorization header, so no
# cookies are allowed across origins (CORS_ALLOW_CREDENTIALS stays False).
CORS_ALLOWED_ORIGINS = env_list(
    "SUITE_AI_CORS_ALLOWED_ORIGINS", item=http_origin, expected="comma-separated origins, e.g. https://docs.example.org"
)
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "idempotency-key",
    "last-event-id",  # a fetch-based event stream resuming (EventSource cannot send Authorization)
)
CORS_EXPOSE_HEADERS = ("Location", "Retry-After", "Idempotent-Replayed")
CORS_PREFLIGHT_MAX_AGE = 3600

SPECTACULAR_SETTINGS = {
    "TITLE": "suite_ai API",
    "DESCRIPTION": "AI actions for La Suite Docs, run as background jobs on Mistral models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Nothing fetched from elsewhere: Swagger UI's default validator badge calls validator.swagger.io.
    # (ReDoc's page, whose template loads Google Fonts, is our own: jobs/templates/jobs/redoc.html.)
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    # Every API authentication is a bearer token: one "bearerAuth" scheme (suite_ai/jobs/api/schema.py)
    # describes the three kinds, rather than three "Authorize" boxes for one header.
    "AUTHENTICATION_WHITELIST": ["suite_ai.accounts.authentication.ApiTokenAuthentication"],
}

# --- Logging --------------------------------------------------------------------------------------
# Log lines carry ids, codes and timings; never document text, prompts, outputs or tokens.
LOG_LEVEL = env_choice("SUITE_AI_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "INFO", fold_case=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        # A line per task received and per task finished (200 a second at 100 jobs/s) says nothing
        # that the job rows, their events and /metrics do not; failures still log.
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}

PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR")
# /metrics: with a token, to a scraper that sends it as a bearer token, from anywhere; without
# one, only to a client on this machine that no proxy relays (see suite_ai/jobs/metrics.py).
SUITE_AI_METRICS_TOKEN = env("SUITE_AI_METRICS_TOKEN")

# --- Processes (manage.py serve, the ASGI app) ----------------------------------------------------
# Read here rather than where they are used, so that a bad value stops every process the same way.
SERVE_HOST = env("HOST", "127.0.0.1")
SERVE_PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1, minimum=1)  # uvicorn worker processes (manage.py serve)
SUITE_AI_WEB_THREADS = env_int("SUITE_AI_WEB_THREADS", 16, minimum=1)  # threads of one web process (asgi.py)
# Limits of the web server on each request (suite_ai/web_server.py): the size of its head, the
# time the head takes to arrive, the longest pause in its body.
SUITE_AI_HTTP_MAX_HEADER_BYTES = env_int("SUITE_AI_HTTP_MAX_HEADER_BYTES", 64 * 1024, minimum=1024)
SUITE_AI_HTTP_HEADER_TIMEOUT = env_seconds("SUITE_AI_HTTP_HEADER_TIMEOUT", 20.0)
SUITE_AI_HTTP_BODY_TIMEOUT = env_seconds("SUITE_AI_HTTP_BODY_TIMEOUT", 30.0)

# --- Error reporting (Sentry, optional, as in Docs) -----------------------------------------------
# On only with SENTRY_DSN; the release is the package's version. Reports carry no request body,
# token or document text (suite_ai/error_reporting.py).
SENTRY_DSN = env("SENTRY_DSN")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT")
if SENTRY_DSN:
    from suite_ai import error_reporting

    error_reporting.init(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
