"""DJANGO_SECRET_KEY: generated for the embedded mode only; required wherever a database or broker
server is named, unless DJANGO_DEBUG is on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

LOAD_SETTINGS = "from django.conf import settings; print(settings.SECRET_KEY)"
SERVERS = {
    "DATABASE_URL": "postgres://suite_ai:suite_ai@127.0.0.1:5432/suite_ai",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def load_settings(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the production settings in a fresh process (they are read once, at import)."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FILE", "DJANGO_DEBUG", *SERVERS}
    }
    base.update({"DJANGO_SETTINGS_MODULE": "suite_ai.settings", "SUITE_AI_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], env=base, cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_the_embedded_mode_generates_a_key_and_keeps_it(tmp_path):
    first = load_settings(tmp_path)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and (tmp_path / "secret_key").read_text().strip() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert load_settings(tmp_path).stdout.strip() == key  # the same key on every start


def test_an_explicit_sqlite_database_is_still_the_embedded_mode(tmp_path):
    loaded = load_settings(
        tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CELERY_BROKER_URL="filesystem://"
    )
    assert loaded.returncode == 0, loaded.stderr


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_server_without_a_key_stops_the_start_up(tmp_path, server):
    loaded = load_settings(tmp_path, **{server: SERVERS[server]})
    assert loaded.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in loaded.stderr
    assert not (tmp_path / "secret_key").exists()


def test_debug_allows_a_generated_key_with_servers(tmp_path):
    loaded = load_settings(tmp_path, DJANGO_DEBUG="true", **SERVERS)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (tmp_path / "secret_key").read_text().strip()


def test_a_key_from_the_environment_or_a_file(tmp_path):
    assert load_settings(tmp_path, DJANGO_SECRET_KEY="k" * 50, **SERVERS).stdout.strip() == "k" * 50
    secret = tmp_path / "secret"
    secret.write_text("s" * 50 + "\n")
    assert load_settings(tmp_path, DJANGO_SECRET_KEY_FILE=str(secret), **SERVERS).stdout.strip() == "s" * 50
