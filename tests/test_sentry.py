"""Error reporting: with SENTRY_DSN a crash reaches Sentry without document text or credentials,
and only then do messages say the team has been notified; without it nothing is initialised."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from suite_ai import error_reporting
from suite_ai.accounts.models import User
from suite_ai.jobs import runner
from suite_ai.jobs.models import Job
from tests.support.sentry_probe import SECRET_TEXT, SECRET_TOKEN

ROOT = Path(__file__).resolve().parent.parent


class FakeSentry(ThreadingHTTPServer):
    """Sentry's envelope endpoint (``POST /api/<project>/envelope/``) on loopback: keeps every
    envelope as received (raw bytes, decompressed) and answers 200 as Sentry does."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        self.envelopes: list[bytes] = []
        self.paths: list[str] = []

    @property
    def dsn(self) -> str:
        return f"http://public-key@127.0.0.1:{self.server_address[1]}/42"

    def events(self) -> list[dict[str, Any]]:
        found = []
        for envelope in self.envelopes:
            lines = envelope.split(b"\n")
            index = 1  # line 0 is the envelope's header
            while index < len(lines) - 1:
                header = json.loads(lines[index])
                payload = lines[index + 1]
                if "length" in header:  # a payload may hold newlines when its length is given
                    start = sum(len(line) + 1 for line in lines[: index + 1])
                    payload = envelope[start : start + header["length"]]
                    index = envelope[: start + header["length"]].count(b"\n") + 1
                else:
                    index += 2
                if header.get("type") == "event":
                    found.append(json.loads(payload))
        return found


class _EnvelopeHandler(BaseHTTPRequestHandler):
    server: FakeSentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding:
            raise AssertionError(f"unexpected Content-Encoding {encoding}")
        self.server.paths.append(self.path)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_probe(tmp_path: Path, **environment: str) -> dict[str, Any]:
    """tests/support/sentry_probe.py in its own process: its own data directory and database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SUITE_AI_DATA_DIR": str(tmp_path),
        # Its own SQLite database, on either backend: the probe migrates and creates rows.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        # ERROR: the runner's "job … crashed" line is emitted, so Sentry's logging integration sees it.
        "SUITE_AI_LOG_LEVEL": "ERROR",
        **environment,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.sentry_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,  # the assertion below shows the probe's stderr
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_a_crash_is_reported_without_document_text_or_credentials(fake_sentry, tmp_path):
    outcome = run_probe(tmp_path, SENTRY_DSN=fake_sentry.dsn, SENTRY_ENVIRONMENT="recette")

    assert outcome["enabled"] is True
    assert outcome["view"]["status"] == 500
    assert outcome["view"]["body"] == {
        "code": "internal_error",
        "message": "Internal error. The team has been notified.",
    }
    assert outcome["job"]["outcome"] == "failed"
    assert outcome["job"]["error"] == {
        "code": "internal_error",
        "message": "The job failed unexpectedly. The team has been notified.",
    }

    assert set(fake_sentry.paths) == {"/api/42/envelope/"}
    # Nothing sent anywhere holds the text, the token, the cookie or the user's email.
    sent = b"\n".join(fake_sentry.envelopes).decode("utf-8", "replace")
    for secret in (SECRET_TEXT, "préfecture", SECRET_TOKEN, "agent@interieur.gouv.fr"):
        assert secret not in sent

    events = fake_sentry.events()
    # One report per crash: the runner's log line does not become a second, trace-less event.
    assert len(events) == 2, [event.get("logentry") for event in events]
    types = sorted(value["type"] for event in events for value in event["exception"]["values"])
    assert types == ["RuntimeError", "ValueError"]
    for event in events:
        assert event["environment"] == "recette"
        assert event["release"] == f"suite-ai@{metadata.version('suite-ai')}"
        for value in event["exception"]["values"]:
            assert value["value"] == error_reporting.REMOVED
            assert value["stacktrace"]["frames"]  # the trace an engineer needs is there
            assert all("vars" not in frame for frame in value["stacktrace"]["frames"])
    view_event = next(event for event in events if event["exception"]["values"][-1]["type"] == "RuntimeError")
    request = view_event["request"]
    assert request["url"].endswith("/crash/") and request["method"] == "POST"
    assert "data" not in request and "cookies" not in request
    assert {name.lower() for name in request["headers"]} <= error_reporting.KEPT_HEADERS
    assert request["headers"].get("User-Agent") == "probe"
    assert "user" not in view_event


def test_without_a_dsn_nothing_is_initialised_and_nobody_claims_a_notification(tmp_path):
    outcome = run_probe(tmp_path, SENTRY_DSN="")
    assert outcome["enabled"] is False
    assert outcome["sdk_imported"] is False  # a process without a DSN does not even load the SDK
    assert outcome["view"]["body"] == {
        "code": "internal_error",
        "message": "Internal error: the request could not be completed.",
    }
    assert outcome["job"]["error"] == {"code": "internal_error", "message": "The job failed unexpectedly."}


def test_the_test_process_itself_has_no_sentry():
    # The settings only initialise Sentry with a DSN.
    assert not os.environ.get("SENTRY_DSN")
    assert not error_reporting.enabled()


@pytest.mark.urls("tests.support.crash_urls")
def test_a_crashing_view_answers_json_in_the_language_asked_for(db):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/crash/", {"markdown": SECRET_TEXT}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": "Erreur interne : la requête n'a pas pu aboutir."}


@pytest.mark.django_db(transaction=True)  # the runner closes its connection between writes
def test_a_crashed_job_does_not_claim_a_notification_without_sentry(monkeypatch):
    owner = User.objects.create(sub="owner")
    job = Job.objects.create(
        owner=owner,
        enqueued_at=timezone.now(),
        document_id=uuid.uuid4(),
        action="summarize",
        input={"markdown": "x"},
        input_hash="h",
    )

    def crash(context: object) -> None:
        raise KeyError("x")

    monkeypatch.setattr(runner, "execute", crash)
    assert runner.run(str(job.id), "w") == "failed"
    job.refresh_from_db()
    assert (job.error_code, job.error_message) == ("internal_error", "The job failed unexpectedly.")


def test_before_send_scrubs_what_the_sdk_would_keep():
    # The SDK's own options already keep bodies and variables out; this is the second line.
    event = {
        "request": {
            "url": "http://testserver/api/v1.0/documents/x/actions/",
            "data": {"input": {"markdown": SECRET_TEXT}},
            "cookies": {"sessionid": SECRET_TOKEN},
            "env": {"REMOTE_ADDR": "10.0.0.1"},
            "headers": {"Authorization": f"Bearer {SECRET_TOKEN}", "X-Forwarded-For": "10.0.0.1", "Accept": "*/*"},
        },
        "user": {"id": "42", "email": "agent@interieur.gouv.fr"},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": SECRET_TEXT,
                    "stacktrace": {"frames": [{"function": "f", "vars": {"markdown": SECRET_TEXT}}]},
                }
            ]
        },
        "threads": {"values": [{"stacktrace": {"frames": [{"vars": {"token": SECRET_TOKEN}}]}}]},
    }
    scrubbed = error_reporting.before_send(event, {})
    assert SECRET_TEXT not in json.dumps(scrubbed) and SECRET_TOKEN not in json.dumps(scrubbed)
    assert scrubbed["request"]["headers"] == {"Accept": "*/*"}
    assert "user" not in scrubbed
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "f"}]
