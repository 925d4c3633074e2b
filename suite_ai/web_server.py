"""uvicorn's HTTP/1.1 protocol (httptools), with the limits it lacks against slow or oversized requests.

uvicorn (read in uvicorn/protocols/http/httptools_impl.py) bounds neither the size of a request's
head with httptools (llhttp buffers a header however long it is) nor the time the head or the body
takes to arrive: its keep-alive timer stops at the first byte of a request, so a client sending
a byte of header every few seconds, or announcing a body it never sends, holds a connection, its
buffers and (for a body) a request task for good. Here, on each connection:

- the head of a request (request line and headers) may be at most
  ``SUITE_AI_HTTP_MAX_HEADER_BYTES``: beyond, 431 and the connection is closed;
- it must arrive within ``SUITE_AI_HTTP_HEADER_TIMEOUT`` seconds of the connection or of the
  previous response (a keep-alive connection idles under uvicorn's own ``--timeout-keep-alive``
  first): else the connection is closed;
- once the head is in, the body may not pause for more than ``SUITE_AI_HTTP_BODY_TIMEOUT``
  seconds between two reads: else the connection is closed, and the application, if it was
  reading the body, gets ``http.disconnect`` (the API answers nothing to a request that never came
  whole).

Used by ``manage.py serve``, the image and compose: ``uvicorn --http suite_ai.web_server:LimitedHttpToolsProtocol``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("suite_ai.web_server")

HEAD_END = b"\r\n\r\n"


def _limits() -> tuple[int, float, float]:
    # The application (suite_ai.asgi) is loaded, so are the settings, before the first connection.
    from django.conf import settings

    return (
        settings.SUITE_AI_HTTP_MAX_HEADER_BYTES,
        settings.SUITE_AI_HTTP_HEADER_TIMEOUT,
        settings.SUITE_AI_HTTP_BODY_TIMEOUT,
    )


def _error(code: str, message: str, status: int, reason: str) -> bytes:
    """A whole error answer, in the API's shape, written before any application sees the request
    (the headers it would take the language from are what is refused: English)."""
    body = json.dumps({"code": code, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head, self.head_timeout, self.body_timeout = _limits()
        self.in_head = True  # reading a request's head (or waiting for one)
        self.head_bytes = 0
        self.head_tail = b""  # the last bytes read, to find a head's end across two reads
        self.limit_timer: asyncio.TimerHandle | None = None

    # --- timers ---------------------------------------------------------------------------------

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self.limit_timer = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self.limit_timer is not None:
            self.limit_timer.cancel()
            self.limit_timer = None

    def _expired(self, what: str) -> None:
        self.limit_timer = None
        if self.flow.read_paused:  # the application is behind on the body, not the client: wait
            self._arm(self.body_timeout, what)
            return
        if not self.transport.is_closing():
            logger.info("connection closed: the request's %s did not arrive in time", what)
            self.transport.close()

    # --- connection and parser callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.in_head:
            if self.limit_timer is None:  # the first byte of a request on a kept-alive connection
                self._arm(self.head_timeout, "head")
            seen = self.head_tail + data
            end = seen.find(HEAD_END)
            self.head_bytes += len(data) if end < 0 else end + len(HEAD_END) - len(self.head_tail)
            self.head_tail = seen[-(len(HEAD_END) - 1) :]
            if self.head_bytes > self.max_head:
                self._refuse_head()
                return
        elif self.limit_timer is not None:  # a piece of the body: the pause it ends was short enough
            self._arm(self.body_timeout, "body")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_bytes, self.head_tail = 0, b""
        self._arm(self.body_timeout, "body")  # stopped at once by a request without a body
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        # The next request's head: timed from its first byte (uvicorn's keep-alive timer covers
        # the wait for it).
        self.in_head = True

    def _refuse_head(self) -> None:
        self._disarm()
        logger.info("connection closed: a request head over %d bytes", self.max_head)
        self.transport.write(
            _error(
                "request_header_too_large",
                f"The request line and headers exceed {self.max_head} bytes.",
                431,
                "Request Header Fields Too Large",
            )
        )
        self.transport.close()
