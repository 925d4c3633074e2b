"""Operator surfaces are not public and the pages defend themselves (issue #13): /metrics behind a
bearer token (or, without one, to this machine only), HSTS over HTTPS, a strict Content-Security-Policy
that Swagger UI, ReDoc and the admin still render under."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from suite_ai.security_headers import NOTHING_POLICY
from tests.support.settings_env import settings_from

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


# --- /metrics -------------------------------------------------------------------------------------


def test_without_a_token_metrics_answer_only_this_machine_and_no_proxied_client(client, settings):
    settings.SUITE_AI_METRICS_TOKEN = None
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    for remote, headers in (
        ("10.1.2.3", {}),
        ("192.0.2.7", {}),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),  # a proxy on this host relays someone
        ("127.0.0.1", {"HTTP_FORWARDED": "for=203.0.113.9"}),
        ("not-an-address", {}),
    ):
        response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
        assert response.status_code == 403, (remote, headers)
        assert response.json()["code"] == "permission_denied"
        assert "suite_ai_jobs" not in response.content.decode()


def test_with_a_token_metrics_need_it_from_anywhere(client, settings):
    settings.SUITE_AI_METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")  # loopback is no longer enough
    assert missing.status_code == 401 and missing.json()["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer "):
        response = client.get("/metrics", HTTP_AUTHORIZATION=wrong)
        assert response.status_code == 401, wrong
        assert response.json()["code"] in {"authentication_failed", "not_authenticated"}
    french = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["code"] == "authentication_failed" and "authentification" in french.json()["message"]
    granted = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert granted.status_code == 200 and "suite_ai_jobs_submitted" in granted.content.decode()


def test_the_metrics_token_is_a_setting_that_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "metrics-token"
    secret.write_text(f"{TOKEN}\n")
    assert settings_from(monkeypatch, SUITE_AI_METRICS_TOKEN_FILE=str(secret))["SUITE_AI_METRICS_TOKEN"] == TOKEN
    assert settings_from(monkeypatch)["SUITE_AI_METRICS_TOKEN"] is None


# --- HSTS -----------------------------------------------------------------------------------------


def test_hsts_is_sent_over_https_only(client, settings):
    assert "Strict-Transport-Security" not in client.get("/health/live")
    secure = client.get("/health/live", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # DJANGO_SECURE_PROXY_SSL_HEADER
    behind_tls = client.get("/health/live", HTTP_X_FORWARDED_PROTO="https")
    assert behind_tls["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_settings_come_from_the_environment(monkeypatch):
    configured = settings_from(
        monkeypatch, DJANGO_SECURE_HSTS_SECONDS="600", DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true"
    )
    assert configured["SECURE_HSTS_SECONDS"] == 600 and configured["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings_from(monkeypatch, DJANGO_SECURE_HSTS_SECONDS="0")["SECURE_HSTS_SECONDS"] == 0
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECURE_HSTS_SECONDS"):
        settings_from(monkeypatch, DJANGO_SECURE_HSTS_SECONDS="-1")


# --- Content-Security-Policy ----------------------------------------------------------------------


def page_policy_allows(page: str, policy: str) -> None:
    """What a browser enforcing ``policy`` would refuse in ``page``: inline scripts without the
    nonce, inline event handlers, javascript: URLs, and anything loaded from elsewhere."""
    rules = directives(policy)
    assert rules["script-src"][0] == "'self'" and "'unsafe-inline'" not in rules["script-src"]
    assert "'unsafe-eval'" not in rules["script-src"] and rules["object-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]
    nonces = [value[len("'nonce-") : -1] for value in rules["script-src"] if value.startswith("'nonce-")]
    for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert body.strip() == "" or (nonce and nonce.group(1) in nonces), f"inline script refused: {body[:80]}"
    assert not re.search(r"\son[a-z]+\s*=", page), "an inline event handler"
    assert "javascript:" not in page
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"(https?:)?//", url), url


def test_swagger_ui_runs_its_start_up_script_by_nonce_only(client):
    first, second = client.get("/api/v1.0/swagger/"), client.get("/api/v1.0/swagger/")
    policy = first["Content-Security-Policy"]
    page = first.content.decode()
    page_policy_allows(page, policy)
    assert re.search(r"<script nonce=\"[^\"]+\">\s*\S", page)  # the start-up script is there, with its nonce
    assert policy != second["Content-Security-Policy"]  # a fresh nonce per response


def test_redoc_and_the_admin_render_with_no_inline_script(client, admin_client):
    redoc = client.get("/api/v1.0/redoc/")
    page_policy_allows(redoc.content.decode(), redoc["Content-Security-Policy"])
    assert "<redoc spec-url=" in redoc.content.decode()
    assert "blob:" in directives(redoc["Content-Security-Policy"])["worker-src"]  # ReDoc's search worker
    for url in ("/admin/login/", "/admin/", "/admin/jobs/job/", "/admin/accounts/user/add/"):
        response = admin_client.get(url) if url != "/admin/login/" else client.get(url)
        assert response.status_code == 200, url
        page_policy_allows(response.content.decode(), response["Content-Security-Policy"])


def test_every_other_answer_allows_nothing(client, alice):
    assert client.get("/health/live")["Content-Security-Policy"] == NOTHING_POLICY
    assert alice.client.get("/api/v1.0/actions/")["Content-Security-Policy"] == NOTHING_POLICY
    assert client.get("/api/v1.0/schema/")["Content-Security-Policy"] == NOTHING_POLICY
    assert client.get("/no/such/page")["Content-Security-Policy"] == NOTHING_POLICY
    page = client.get("/api/v1.0/swagger/").content.decode()
    bundle = next(url for url in re.findall(r'src="([^"]+)"', page) if url.endswith("swagger-ui-bundle.js"))
    assert client.get(bundle)["Content-Security-Policy"] == NOTHING_POLICY  # static files too
