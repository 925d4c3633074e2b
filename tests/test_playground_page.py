"""/playground/ as Django serves it: on or off by SUITE_AI_PLAYGROUND, the development user's
token in a JSON data block (no inline script for the CSP to refuse), the language switch.
The page in a real browser: tests/browser/test_playground.py."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from suite_ai.accounts.models import ApiToken
from suite_ai.playground import services

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://u@127.0.0.1/db"
KEY = "k" * 50
STATIC = ROOT / "suite_ai" / "playground" / "static" / "playground"


def page_config(html: str) -> dict[str, str]:
    match = re.search(r'<script id="suite-ai-playground-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, html
    return json.loads(match.group(1))


def test_the_page_signs_in_the_development_user_with_a_working_token(db, settings):
    settings.SUITE_AI_PLAYGROUND = True
    response = Client().get("/playground/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    config = page_config(html)
    assert config["locale"] == "fr"
    assert config["apiBase"] == "http://testserver/api/v1.0"
    assert config["otherLocaleUrl"] == "/playground/?lang=en"
    api = Client(headers={"Authorization": f"Bearer {config['token']}"})
    assert api.get("/api/v1.0/actions/").status_code == 200
    # Every script is a file of our origin; the only inline <script> is the JSON data block.
    assert re.findall(r"<script([^>]*)>", html) == [
        ' type="module" src="/static/playground/playground.js"',
        ' id="suite-ai-playground-config" type="application/json"',
    ]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_english_on_request(db, settings):
    settings.SUITE_AI_PLAYGROUND = True
    response = Client().get("/playground/?lang=en")
    assert '<html lang="en">' in response.content.decode()
    assert page_config(response.content.decode())["locale"] == "en"


def test_off_the_page_does_not_exist_and_makes_no_token(db, settings):
    settings.SUITE_AI_PLAYGROUND = False
    response = Client().get("/playground/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not ApiToken.objects.exists()


def test_reloads_do_not_pile_up_tokens(db):
    tokens = [services.issue_token() for _ in range(services.KEPT_TOKENS + 5)]
    kept = ApiToken.objects.filter(user__sub=services.PLAYGROUND_USER)
    assert kept.count() == services.KEPT_TOKENS
    assert kept.filter(prefix=tokens[-1][:12]).exists()
    assert not kept.filter(prefix=tokens[0][:12]).exists()


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "True"),  # the embedded mode
        ({"DATABASE_URL": POSTGRES, "DJANGO_SECRET_KEY": KEY}, "False"),
        ({"DATABASE_URL": POSTGRES, "DJANGO_SECRET_KEY": KEY, "DJANGO_DEBUG": "true"}, "True"),
        ({"CELERY_BROKER_URL": "redis://127.0.0.1/0", "DJANGO_SECRET_KEY": KEY, "SUITE_AI_PLAYGROUND": "1"}, "True"),
    ],
)
def test_on_by_default_only_in_the_embedded_mode_or_debug(tmp_path, environment, expected):
    env = {"PATH": "/usr/bin:/bin", "SUITE_AI_DATA_DIR": str(tmp_path), **environment}
    code = "import suite_ai.settings as s; print(s.SUITE_AI_PLAYGROUND)"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


def test_the_bundle_is_shipped():
    # Committed, so `make run` needs neither Node nor the npm registry (README: the playground).
    assert (STATIC / "playground.js").stat().st_size > 100_000
    assert (STATIC / "playground.css").is_file()


def sources_digest(root: Path) -> str:
    """What editor/vite.playground.config.ts records in sources.sha256, computed the same way."""
    sources = ["src", "playground", "package-lock.json", "vite.playground.config.ts"]
    paths = sorted(
        path.relative_to(root).as_posix()
        for source in sources
        for path in ([root / source] if (root / source).is_file() else (root / source).rglob("*"))
        if path.is_file()
    )
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path}\0".encode())
        digest.update((root / path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_shipped_bundle_was_built_from_the_current_sources():
    recorded = (STATIC / "sources.sha256").read_text().strip()
    assert recorded == sources_digest(ROOT / "editor"), (
        "editor/ changed since the playground's bundle was built: run `make editor-build` and commit"
        " suite_ai/playground/static/playground/"
    )
