"""The ASGI → WSGI bridge of the web server, driven as the ASGI server drives it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from typing import Any

from suite_ai.wsgi_bridge import BufferedWSGI

SCOPE: dict[str, Any] = {
    "type": "http",
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "root_path": "",
    "path": "/api/v1.0/documents/é/actions/",
    "query_string": b"status=queued&page=2",
    "server": ("127.0.0.1", 8000),
    "client": ("127.0.0.1", 54321),
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", b"11"),
        (b"x-forwarded-for", b"10.0.0.1"),
        (b"x-forwarded-for", b"10.0.0.2"),
        (b"idempotency-key", b"k1"),
    ],
}


def serve(app: Any, body_parts: list[bytes], *, max_body: int = 1000, disconnect: bool = False) -> tuple[Any, list]:
    """Run one request through the bridge; returns the environ the app saw and what was sent."""
    seen: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.update(environ)
        seen["body"] = environ["wsgi.input"].read()
        return app(environ, start_response)

    last = len(body_parts) - 1
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": part, "more_body": i < last} for i, part in enumerate(body_parts)
    ]
    if disconnect:
        messages = messages[:1]
        messages[0]["more_body"] = True
        messages.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    bridge = BufferedWSGI(wsgi, threads=2, max_body=max_body)
    asyncio.run(bridge(dict(SCOPE), receive, send))
    bridge.executor.shutdown()
    return seen, sent


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Seen", environ["CONTENT_LENGTH"])])
    return [b"first ", b"second"]


def test_the_request_reaches_the_application_as_pep_3333_describes_it():
    environ, sent = serve(echo, [b"hello", b" world"])
    assert environ["body"] == b"hello world"  # the body, sent in two parts, read whole
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/api/v1.0/documents/é/actions/".encode().decode("latin1")
    assert environ["QUERY_STRING"] == "status=queued&page=2"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("application/json", "11")
    assert environ["HTTP_IDEMPOTENCY_KEY"] == "k1"
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"  # repeated headers joined
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("127.0.0.1", "54321")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.url_scheme"] == "http" and environ["wsgi.multithread"] is True
    # The whole response in two messages, whatever the number of chunks the application made.
    headers = [(b"content-type", b"text/plain"), (b"x-seen", b"11")]
    assert sent == [
        {"type": "http.response.start", "status": 201, "headers": headers},
        {"type": "http.response.body", "body": b"first second"},
    ]


def test_a_body_over_the_limit_is_read_no_further_and_declared_too_long():
    environ, sent = serve(echo, [b"x" * 600, b"y" * 600, b"z" * 600], max_body=1000)
    assert environ["body"] == b"x" * 600 + b"y" * 600  # the third part was never read
    assert int(environ["CONTENT_LENGTH"]) == 1200 > 1000  # what the views refuse with a 413
    assert sent[0]["status"] == 201


def test_the_legacy_write_callable_and_close_are_honoured():
    closed: list[bool] = []

    class Body(list):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        write = start_response("200 OK", [])
        write(b"written ")
        return Body([b"returned"])

    _, sent = serve(app, [b""])
    assert sent[1]["body"] == b"written returned"
    assert closed == [True]


def test_an_error_page_started_after_the_response_replaces_it():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        try:
            raise RuntimeError("late failure")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error"]

    _, sent = serve(app, [b""])
    assert sent[0] == {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]}
    assert sent[1]["body"] == b"error"


def test_a_client_gone_before_its_body_ends_runs_nothing():
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(1)
        start_response("200 OK", [])
        return []

    _, sent = serve(app, [b"part", b"rest"], disconnect=True)
    assert calls == [] and sent == []
