"""Django settings for suite_ai, read from the environment (12-factor).

Every setting has a safe default for the embedded mode: with no configuration the
service runs on SQLite and an embedded Celery transport kept under SUITE_AI_DATA_DIR.
Secrets may also be given as files, with the ``<NAME>_FILE`` convention used by Docs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from suite_ai.llm import prompts

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the content of the file named by NAME_FILE (for mounted secrets)."""
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def env_float(name: str, default: float) -> float:
    value = env(name)
    return default if value is None else float(value)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


Parsed = TypeVar("Parsed")  # not upper case: Django would take it for a setting


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


def env_choice(name: str, choices: Collection[str]) -> str | None:
    value = env(name)
    if value is None:
        return None
    if value.strip() not in choices:
        raise ImproperlyConfigured(f"{name}: {value!r} is not valid; expected one of: {', '.join(choices)}.")
    return value.strip()


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


DATA_DIR = Path(env("SUITE_AI_DATA_DIR", "var") or "var")
if not DATA_DIR.is_absolute():
    DATA_DIR = BASE_DIR / DATA_DIR
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """An explicit key in production; in embedded mode a random key kept in the data dir."""
    configured = env("DJANGO_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
USE_X_FORWARDED_HOST = env_bool("DJANGO_USE_X_FORWARDED_HOST", False)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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
    "suite_ai.accounts",
    "suite_ai.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
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
_database: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0))
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif _database["ENGINE"] == "django.db.backends.postgresql" and env_bool("SUITE_AI_DB_POOL", True):
    _database["OPTIONS"] = {
        "pool": {
            "min_size": env_int("SUITE_AI_DB_POOL_MIN", 2),
            "max_size": env_int("SUITE_AI_DB_POOL_MAX", 20),
            "timeout": env_float("SUITE_AI_DB_POOL_TIMEOUT", 10.0),
        }
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis ----------------------------------------------------------------------------------------
# The submission throttles and the model rate limiter shared by the workers; neither goes through
# Django's cache (see suite_ai/jobs/throttling.py), so no CACHES is configured.
REDIS_URL = env("REDIS_URL")

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "fr-fr"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# --- Celery ---------------------------------------------------------------------------------------
# The broker only carries job ids; the database is the truth (see jobs.reconcile).
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_POLL_INTERVAL = env_float("SUITE_AI_BROKER_POLL_INTERVAL", 0.05)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "suite_ai.jobs.transports:FilesystemTransport"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": CELERY_BROKER_POLL_INTERVAL,
    }
else:
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_TRANSPORT = "suite_ai.jobs.transports:RedisTransport"
    # The visibility timeout must exceed the longest job plus its longest re-schedule delay,
    # or Redis hands a running job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("SUITE_AI_BROKER_VISIBILITY_TIMEOUT", 3600),
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
CELERY_BEAT_SCHEDULE = {
    "reconcile-jobs": {
        "task": "suite_ai.jobs.tasks.reconcile_jobs",
        "schedule": env_float("SUITE_AI_RECONCILE_INTERVAL", 15.0),
    },
    "purge-jobs": {
        "task": "suite_ai.jobs.tasks.purge_jobs",
        "schedule": 3600.0,
    },
}

# --- Jobs -----------------------------------------------------------------------------------------
SUITE_AI_WORKER_CONCURRENCY = env_int("SUITE_AI_WORKER_CONCURRENCY", 256)
SUITE_AI_MAX_INPUT_BYTES = env_int("SUITE_AI_MAX_INPUT_BYTES", 2 * 1024 * 1024)
SUITE_AI_MAX_YDOC_BYTES = env_int("SUITE_AI_MAX_YDOC_BYTES", 10 * 1024 * 1024)
SUITE_AI_MAX_ATTEMPTS = env_int("SUITE_AI_MAX_ATTEMPTS", 5)
SUITE_AI_HEARTBEAT_INTERVAL = env_float("SUITE_AI_HEARTBEAT_INTERVAL", 10.0)
SUITE_AI_HEARTBEAT_TIMEOUT = env_float("SUITE_AI_HEARTBEAT_TIMEOUT", 60.0)
SUITE_AI_QUEUED_REDELIVERY_AFTER = env_float("SUITE_AI_QUEUED_REDELIVERY_AFTER", 300.0)
SUITE_AI_JOB_TIMEOUT = env_float("SUITE_AI_JOB_TIMEOUT", 1800.0)
SUITE_AI_RETENTION_DAYS = env_int("SUITE_AI_RETENTION_DAYS", 30)
SUITE_AI_EVENT_FLUSH_INTERVAL = env_float("SUITE_AI_EVENT_FLUSH_INTERVAL", 0.2)
SUITE_AI_SUBMIT_RATE = env("SUITE_AI_SUBMIT_RATE", "120/min")
SUITE_AI_EXTRACTIVE_FALLBACK = env_bool("SUITE_AI_EXTRACTIVE_FALLBACK", False)

# --- Event streams (SSE) --------------------------------------------------------------------------
# A stream is woken by a notification (Redis pub/sub with REDIS_URL; otherwise datagrams between the
# processes of one machine); the sweep asks the database for what a lost notification would hide.
SUITE_AI_SSE_HEARTBEAT = env_float("SUITE_AI_SSE_HEARTBEAT", 15.0)
SUITE_AI_SSE_MAX_DURATION = env_float("SUITE_AI_SSE_MAX_DURATION", 300.0)
SUITE_AI_SSE_SWEEP_INTERVAL = env_float("SUITE_AI_SSE_SWEEP_INTERVAL", 5.0)
# Threads of a web process for the streams' database reads (and as many for bearer checks).
SUITE_AI_SSE_DB_THREADS = env_int("SUITE_AI_SSE_DB_THREADS", 2)
# Lifetime of the ticket in ``links.events`` (seconds): long enough for EventSource to reconnect
# during a long job, short enough that a URL seen in a proxy's log soon opens nothing.
SUITE_AI_SSE_TICKET_TTL = env_int("SUITE_AI_SSE_TICKET_TTL", 900)

# --- Model gateway --------------------------------------------------------------------------------
MISTRAL_API_KEY = env("MISTRAL_API_KEY")
MISTRAL_SERVER_URL = env("MISTRAL_SERVER_URL")
MISTRAL_MODEL = env("MISTRAL_MODEL", "mistral-small-latest")
MISTRAL_MODEL_LONG = env("MISTRAL_MODEL_LONG", "mistral-large-latest")
MISTRAL_CONTEXT_TOKENS = env_int("MISTRAL_CONTEXT_TOKENS", 0)  # 0: each model's known window
MISTRAL_TIMEOUT = env_float("MISTRAL_TIMEOUT", 120.0)
SUITE_AI_CHUNK_TOKENS = env_int("SUITE_AI_CHUNK_TOKENS", 8000)
SUITE_AI_MAX_INPUT_TOKENS = env_int("SUITE_AI_MAX_INPUT_TOKENS", 400_000)
SUITE_AI_MAP_CONCURRENCY = env_int("SUITE_AI_MAP_CONCURRENCY", 16)
SUITE_AI_MODEL_RPM = env_int("SUITE_AI_MODEL_RPM", 0)  # 0: no limit configured
SUITE_AI_MODEL_TPM = env_int("SUITE_AI_MODEL_TPM", 0)
# "note=mistral-large-latest,translate=…": the model of one action, over MISTRAL_MODEL(_LONG).
SUITE_AI_ACTION_MODELS = env_pairs(
    "SUITE_AI_ACTION_MODELS", str, "action=model pairs, e.g. note=mistral-large-latest", keys=tuple(prompts.PROMPTS)
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

# --- La Suite Docs --------------------------------------------------------------------------------
DOCS_BASE_URL = env("DOCS_BASE_URL")
DOCS_SERVER_TO_SERVER_TOKEN = env("DOCS_SERVER_TO_SERVER_TOKEN")
DOCS_TIMEOUT = env_float("DOCS_TIMEOUT", 20.0)
# Where people open Docs, when suite_ai reaches it at another address (an internal hostname).
DOCS_PUBLIC_URL = env("DOCS_PUBLIC_URL")
# How notes are written: "child" (a child document, Yjs content written by suite_ai), "child_upload"
# (a child created from a markdown upload; needs Docs' CONVERSION_UPLOAD_ENABLED) or "owner_root"
# (a root document owned by the user, with DOCS_SERVER_TO_SERVER_TOKEN).
SUITE_AI_NOTE_MODE = env("SUITE_AI_NOTE_MODE", "child")
SUITE_AI_SERVICE_TOKENS = env_list("SUITE_AI_SERVICE_TOKENS")

# --- OIDC resource server (django-lasuite; same names as in Docs) ---------------------------------
OIDC_OP_URL = env("OIDC_OP_URL")
OIDC_OP_INTROSPECTION_ENDPOINT = env("OIDC_OP_INTROSPECTION_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT")
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
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 3.0)
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
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": AUTHENTICATION_CLASSES,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "suite_ai.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# A request body larger than this is refused by Django before DRF parses it; keep a margin
# above the input limit so the API answers 413 input_too_large with the limit in the message.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(SUITE_AI_MAX_INPUT_BYTES, SUITE_AI_MAX_YDOC_BYTES * 4 // 3) + 64 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": "suite_ai API",
    "DESCRIPTION": "AI actions for La Suite Docs, run as background jobs on Mistral models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Logging --------------------------------------------------------------------------------------
# Log lines carry ids, codes and timings; never document text, prompts, outputs or tokens.
LOG_LEVEL = env("SUITE_AI_LOG_LEVEL", "INFO")
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

PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
