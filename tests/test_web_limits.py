"""The web server as `manage.py serve` starts it, probed with raw sockets (issue #13): an oversized
request head is refused with 431 and the connection closed; a head or a body that stops arriving
has its connection dropped; meanwhile everyone else is answered."""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from suite_ai.jobs.management.commands.serve import web_command
from tests.support.processes import ManagedProcess, free_port
from tests.test_serve import embedded_env

pytestmark = pytest.mark.e2e

MAX_HEADER_BYTES = 8192
TIMEOUT = 2  # SUITE_AI_HTTP_HEADER_TIMEOUT and SUITE_AI_HTTP_BODY_TIMEOUT, seconds
PATIENCE = 60.0  # how long a test waits for the server to act (far beyond TIMEOUT: never a timing)
ACTIONS = "/api/v1.0/documents/3f1c6d0e-8f7a-4a53-9d0b-2a7a3c1b9e11/actions/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    tmp = tmp_path_factory.mktemp("web-limits")
    port = free_port()
    env = embedded_env(
        tmp / "data",
        SUITE_AI_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        SUITE_AI_HTTP_HEADER_TIMEOUT=str(TIMEOUT),
        SUITE_AI_HTTP_BODY_TIMEOUT=str(TIMEOUT),
    )
    command = web_command("127.0.0.1", port, 1)
    assert command[:3] == [sys.executable, "-m", "uvicorn"]
    web = ManagedProcess("web", command, env, tmp)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert web.process.poll() is None and time.monotonic() < deadline, web.log()[-4000:]
        time.sleep(0.1)
    yield "127.0.0.1", port
    web.stop()


def connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=PATIENCE)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a socket timeout, meaning the
    server kept the connection open, fails the test)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def read_one_response(sock: socket.socket) -> bytes:
    """One whole response, head and body (by its Content-Length): under load it can arrive in pieces."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the end of the head: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the end of the body"
        body += chunk
    return head + b"\r\n\r\n" + body


def still_answers(server: tuple[str, int]) -> None:
    response = httpx.get(f"http://{server[0]}:{server[1]}/health/live", timeout=PATIENCE)
    assert response.status_code == 200


def test_a_head_over_the_limit_gets_431_and_a_closed_connection(server):
    for head in (
        # Many ordinary headers.
        b"GET /health/live HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(200)),
        # One header that never ends: llhttp would buffer it whole.
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * (4 * MAX_HEADER_BYTES),
        # A request line alone.
        b"GET /" + b"p" * (2 * MAX_HEADER_BYTES) + b" HTTP/1.1\r\n",
    ):
        with connect(server) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(head)  # may be closed while we still send: read what it said first
            answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert b'"code": "request_header_too_large"' in answer
    still_answers(server)


def test_a_head_just_under_the_limit_is_served(server):
    headers = {"X-Token-Like": "t" * (MAX_HEADER_BYTES - 600)}
    response = httpx.get(f"http://{server[0]}:{server[1]}/health/live", headers=headers, timeout=PATIENCE)
    assert response.status_code == 200


def test_a_head_that_stops_arriving_is_dropped(server):
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert read_until_closed(sock) == b""  # closed, nothing answered
    with connect(server) as sock:  # a connection that never says anything
        assert read_until_closed(sock) == b""


def test_a_body_that_stops_arriving_is_dropped_and_others_are_served_meanwhile(server):
    head = (
        f"POST {ACTIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    ).encode()
    stalled = [connect(server) for _ in range(20)]
    try:
        for sock in stalled:
            sock.sendall(head + b'{"action": "summarize", "input": {"markdown": "')
        still_answers(server)  # the stalled uploads hold no one else up
        for sock in stalled:
            assert read_until_closed(sock) == b""  # dropped, the request never reached a view
    finally:
        for sock in stalled:
            sock.close()
    still_answers(server)


def test_a_body_arriving_in_slow_pieces_within_the_limit_is_served(server):
    body = b'{"action": "summarize", "input": {"markdown": "Un texte."}}'
    head = (
        f"POST {ACTIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with connect(server) as sock:
        sock.sendall(head)
        for start in range(0, len(body), 12):
            time.sleep(TIMEOUT / 8)  # pauses well within the limit, several of them longer in sum
            sock.sendall(body[start : start + 12])
        answer = read_until_closed(sock)
    # Whole and answered by the API (no token: 401 in the API's shape).
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:300]
    assert b'"code":"not_authenticated"' in answer.replace(b" ", b"")


def test_kept_alive_connections_get_the_head_timeout_for_each_request(server):
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = read_one_response(sock)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the second head stops halfway
        assert read_until_closed(sock) == b""
