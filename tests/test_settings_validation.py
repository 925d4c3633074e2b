"""Every variable is checked when a process starts: a value that cannot be used stops it with one
line naming the variable and what it expects (exit status 2), never a traceback, and never a job
failing an hour later. Secrets files take precedence over plain variables, as in Docs."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from suite_ai.pipeline.model import llm_settings
from tests.support.settings_env import settings_from

ROOT = Path(__file__).resolve().parent.parent


def refusal(monkeypatch: pytest.MonkeyPatch, **environment: str) -> str:
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_from(monkeypatch, **environment)
    message = str(refused.value)
    assert "\n" not in message
    return message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SUITE_AI_CHUNK_TOKENS", "abc", "expected a whole number (1 or more)"),
        ("SUITE_AI_CHUNK_TOKENS", "0", "expected a whole number (1 or more)"),
        ("SUITE_AI_MODEL_RPM", "-5", "expected a whole number (0 or more)"),
        ("PORT", "70000", "expected a whole number from 1 to 65535"),
        ("WEB_CONCURRENCY", "two", "a whole number"),
        ("MISTRAL_TIMEOUT", "0", "expected a number greater than 0"),
        ("OIDC_TIMEOUT", "soon", "expected a number greater than 0"),
        ("SUITE_AI_SSE_HEARTBEAT", "nan", "expected a number greater than 0"),
        ("DJANGO_DEBUG", "maybe", "expected true or false"),
        ("DATABASE_URL", "garbage", "expected sqlite:////path/to/file.sqlite3 or postgres://"),
        ("DATABASE_URL", "mysql://suite_ai@db/suite_ai", "or postgres://"),
        ("DATABASE_URL", "sqlite://", "expected sqlite:////path"),  # in memory: no two processes share it
        ("DATABASE_URL", "postgres://db.internal:5432", "or postgres://"),  # no database name
        ("CELERY_BROKER_URL", "garbage", "expected a redis:// or rediss://"),
        ("REDIS_URL", "localhost:6379", "expected a redis:// or rediss:// or unix:// URL"),
        ("DOCS_BASE_URL", "docs.example.org", "expected a http:// or https:// URL with a host"),
        ("MISTRAL_SERVER_URL", "albert", "expected a http:// or https:// URL"),
        ("OIDC_OP_INTROSPECTION_ENDPOINT", "https://", "expected a http:// or https:// URL"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://docs.example.org,docs.example.org", "origins"),
        ("SUITE_AI_SUBMIT_RATE", "fast", "expected submissions per period, e.g. 120/min"),
        ("SUITE_AI_SUBMIT_RATE", "10/fortnight", "120/min"),
        ("SUITE_AI_NOTE_MODE", "sibling", "expected one of: child, child_upload, owner_root"),
        ("SUITE_AI_LOG_LEVEL", "loud", "expected one of: DEBUG, INFO"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_and_what_it_expects(monkeypatch, variable, value, expected):
    message = refusal(monkeypatch, **{variable: value})
    assert message.startswith(f"{variable}: ") and expected in message, message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SUITE_AI_DB_POOL", "2", "expected true or false"),
        ("SUITE_AI_DB_POOL_MAX", "0", "expected a whole number (1 or more)"),
        ("SUITE_AI_DB_POOL_TIMEOUT", "-1", "expected a number greater than 0"),
    ],
)
def test_the_pool_variables_are_checked_with_postgres(monkeypatch, variable, value, expected):
    message = refusal(monkeypatch, DATABASE_URL="postgres://db/suite_ai", **{variable: value})
    assert message.startswith(f"{variable}: ") and expected in message, message


def test_a_url_is_shown_without_its_password(monkeypatch):
    message = refusal(monkeypatch, DATABASE_URL="postgres://suite_ai:hunter2@db:port/suite_ai")
    assert message.startswith("DATABASE_URL: 'postgres://suite_ai:***@db:port/suite_ai'")
    assert "hunter2" not in message
    assert "hunter2" not in refusal(monkeypatch, REDIS_URL="redis:/:hunter2@cache")


def test_values_that_only_make_sense_together_are_checked_together(monkeypatch):
    message = refusal(
        monkeypatch,
        DATABASE_URL="postgres://db/suite_ai",
        SUITE_AI_DB_POOL_MIN="30",
        SUITE_AI_DB_POOL_MAX="20",
    )
    assert message.startswith("SUITE_AI_DB_POOL_MIN: 30 is above SUITE_AI_DB_POOL_MAX (20)")
    message = refusal(monkeypatch, SUITE_AI_HEARTBEAT_TIMEOUT="5")  # the interval is 10 s
    assert message.startswith(
        "SUITE_AI_HEARTBEAT_TIMEOUT: 5 is not valid; expected more than SUITE_AI_HEARTBEAT_INTERVAL"
    )


def test_a_secrets_file_takes_precedence_over_the_variable_as_in_docs(monkeypatch, tmp_path):
    key_file = tmp_path / "mistral_api_key"
    key_file.write_text("key-from-file\n")
    loaded = settings_from(monkeypatch, MISTRAL_API_KEY="key-from-env", MISTRAL_API_KEY_FILE=str(key_file))
    assert loaded["MISTRAL_API_KEY"] == "key-from-file"
    assert settings_from(monkeypatch, MISTRAL_API_KEY="key-from-env")["MISTRAL_API_KEY"] == "key-from-env"
    # Typed values too; and an empty value is unset (compose passes NAME= for "not configured").
    chunk_file = tmp_path / "chunk"
    chunk_file.write_text("1200")
    loaded = settings_from(monkeypatch, SUITE_AI_CHUNK_TOKENS="900", SUITE_AI_CHUNK_TOKENS_FILE=str(chunk_file))
    assert loaded["SUITE_AI_CHUNK_TOKENS"] == 1200
    assert settings_from(monkeypatch, SUITE_AI_CHUNK_TOKENS="")["SUITE_AI_CHUNK_TOKENS"] == 8000


def test_a_secrets_file_that_cannot_be_read_is_named(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere"
    message = refusal(monkeypatch, MISTRAL_API_KEY="key-from-env", MISTRAL_API_KEY_FILE=str(missing))
    assert message.startswith(f"MISTRAL_API_KEY_FILE: cannot read {str(missing)!r}")
    assert "expected a readable file holding MISTRAL_API_KEY" in message


def test_accepted_spellings(monkeypatch):
    loaded = settings_from(
        monkeypatch,
        DJANGO_DEBUG="Yes",
        SUITE_AI_LOG_LEVEL="debug",
        SUITE_AI_SUBMIT_RATE="30/hour",
        DATABASE_URL="postgres://suite_ai:pw@db:5432/suite_ai?sslmode=require",
        CELERY_BROKER_URL="redis://cache:6379/0",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://docs.example.org, http://localhost:3000",
    )
    assert loaded["DEBUG"] is True and loaded["LOG_LEVEL"] == "DEBUG" and loaded["SUITE_AI_SUBMIT_RATE"] == "30/hour"
    options = loaded["DATABASES"]["default"]["OPTIONS"]
    assert options["sslmode"] == "require" and options["pool"]["max_size"] == 20  # the pool adds to the URL's options
    assert loaded["CSRF_TRUSTED_ORIGINS"] == ["https://docs.example.org", "http://localhost:3000"]


@pytest.mark.parametrize(
    "configured",
    [
        "https://albert.api.etalab.gouv.fr/v1",
        "https://albert.api.etalab.gouv.fr/v1/",
        "https://albert.api.etalab.gouv.fr/",
    ],
)
def test_a_model_server_url_ending_in_v1_works_with_one_warning(monkeypatch, settings, configured):
    loaded = settings_from(monkeypatch, MISTRAL_SERVER_URL=configured, MISTRAL_API_KEY="k")
    assert loaded["MISTRAL_SERVER_URL"] == "https://albert.api.etalab.gouv.fr"
    warnings = loaded["CONFIGURATION_WARNINGS"]
    if "/v1" in configured:
        assert len(warnings) == 1 and warnings[0].startswith("MISTRAL_SERVER_URL: ") and "/v1" in warnings[0]
    else:
        assert warnings == []
    settings.MISTRAL_SERVER_URL = loaded["MISTRAL_SERVER_URL"]
    assert llm_settings().server_url == "https://albert.api.etalab.gouv.fr"  # LLMSettings refuses /v1


# --- The entry points, as processes: one line, status 2 ------------------------------------------------------------


def run(command: list[str], tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="suite_ai.settings", SUITE_AI_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    env.update(environment)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The process's single start-up message (Celery may warn before it about running as root)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("suite_ai cannot start: ")]
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("suite_ai cannot start: ")


MANAGE = [sys.executable, "manage.py", "check"]
WORKER = [sys.executable, "-m", "celery", "-A", "suite_ai.celery", "worker", "--pool", "threads", "--concurrency", "1"]
BEAT = [sys.executable, "-m", "celery", "-A", "suite_ai.celery", "beat"]
WEB = [sys.executable, "-m", "uvicorn", "suite_ai.asgi:application", "--port", "0"]


@pytest.mark.parametrize("command", [MANAGE, WORKER, BEAT, WEB], ids=["manage.py", "worker", "beat", "web"])
def test_every_entry_point_refuses_a_bad_value_in_one_line(tmp_path, command):
    result = run(command, tmp_path, SUITE_AI_CHUNK_TOKENS="abc")
    assert result.stderr.strip() == "suite_ai cannot start: " + one_line(result)  # nothing else at all
    assert one_line(result) == "SUITE_AI_CHUNK_TOKENS: 'abc' is not valid; expected a whole number (1 or more)."


@pytest.mark.parametrize(
    "command", [[sys.executable, "manage.py", "migrate"], WORKER], ids=["manage.py migrate", "worker"]
)
def test_a_database_that_does_not_answer_is_one_line_without_its_password(tmp_path, command):
    url = f"postgres://suite_ai:hunter2@127.0.0.1:{closed_port()}/suite_ai"
    result = run(command, tmp_path, DATABASE_URL=url)
    line = one_line(result)
    assert line.startswith("DATABASE_URL=postgres://suite_ai:***@127.0.0.1:") and "does not answer" in line
    assert "hunter2" not in result.stderr + result.stdout


def test_the_model_server_url_warning_is_logged_once_at_start(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check"],
        tmp_path,
        MISTRAL_SERVER_URL="https://albert.api.etalab.gouv.fr/v1",
        SUITE_AI_LOG_LEVEL="INFO",
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "MISTRAL_SERVER_URL" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0], result.stderr
    assert "using 'https://albert.api.etalab.gouv.fr'" in warnings[0]


def test_the_warning_goes_through_logging(caplog, settings):
    from suite_ai.jobs.apps import JobsConfig

    settings.CONFIGURATION_WARNINGS = ["MISTRAL_SERVER_URL: corrected"]
    with caplog.at_level(logging.WARNING, logger="suite_ai.settings"):
        JobsConfig.ready(JobsConfig.create("suite_ai.jobs"))
    assert [record.getMessage() for record in caplog.records] == ["MISTRAL_SERVER_URL: corrected"]
