"""``GET /api/v1.0/jobs/{id}/events/``: a job's events as Server-Sent Events.

``stream`` serves it under the ASGI server (``suite_ai.asgi`` routes the GET requests of this path
to it): a plain ASGI endpoint, outside Django's request handler, which would run each request's
middleware on a thread of its own, and that thread keeps its database connection until the
request ends. Here an open stream is a coroutine of the process's hub (``suite_ai.jobs.streams``);
its database reads (the opening check, the replay, new events) run on the hub's few shared
threads, which give their connection back after each read.

Credentials: a ``ticket`` query parameter (``links.events`` carries one: what a browser's
EventSource, which cannot send headers, uses), or the usual ``Authorization: Bearer`` header (a
``fetch``-based client). The stream replays every event after ``Last-Event-ID`` (header, or the
``last_event_id`` parameter), then sends each new one as it is written; a comment every
``SUITE_AI_SSE_HEARTBEAT`` seconds keeps proxies from closing an idle stream. It ends with the job
(``done``, ``failed``, ``cancelled``) or after ``SUITE_AI_SSE_MAX_DURATION`` seconds, after which
EventSource reconnects and resumes.

``job_events`` is the same endpoint as a Django view, for Django's test client and WSGI servers
(``manage.py runserver``): it answers with the events so far and ends; EventSource reconnects
after ``retry`` and resumes, which makes it a slow poll — the ASGI server is what production runs.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from suite_ai.jobs import failures, streams, tickets
from suite_ai.jobs.models import Job, JobEvent
from suite_ai.languages import language_for

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = re.compile(r"^/api/v1\.0/jobs/(?P<pk>[^/]+)/events/$")
RETRY = b"retry: 2000\n\n"
KEEP_ALIVE = b": keep-alive\n\n"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]
CORS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
TICKET_IN_QUERY = re.compile(rb"(^|&)ticket=[^&]*")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def last_event_id(raw: str | None) -> int:
    try:
        return max(0, int(raw or "0"))
    except ValueError:
        return 0


def authenticate(request: HttpRequest) -> Any:
    """The user of the request's credentials, by the API's authentication classes."""
    drf_request = Request(request)
    for authenticator_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        found = authenticator_class().authenticate(drf_request)  # type: ignore[operator]
        if found is not None:
            return found[0]
    raise exceptions.NotAuthenticated()


def authorize(request: HttpRequest | None, job_id: str, ticket: str | None) -> None:
    """Refused unless the ticket, or else the bearer credentials, open this job's events. A ticket
    is checked by its signature alone; bearer credentials cost a query or two (run it off the
    event loop)."""
    if ticket is not None:
        try:
            tickets.verify(job_id, ticket)
        except tickets.TicketError as error:
            raise Refused(401, error.code, error.message) from None
        return
    if request is None:
        raise Refused(401, "not_authenticated", str(exceptions.NotAuthenticated.default_detail))
    try:
        user = authenticate(request)
    except exceptions.NotAuthenticated as error:
        raise Refused(401, "not_authenticated", str(error.detail)) from None
    except exceptions.APIException as error:
        # An AuthError carries its own code and status (a deactivated account: 403 account_disabled).
        code = getattr(error, "stable_code", "authentication_failed")
        raise Refused(error.status_code, code, str(error.detail)) from None
    if not Job.objects.filter(id=job_id, owner=user).exists():
        raise Refused(404, "not_found", _("No job with this id."))


# --- Under the ASGI server ------------------------------------------------------------------------


def _authorize_in(language: str, request: HttpRequest, job_id: str) -> None:
    # On one of the hub's threads, which the event loop's active language does not reach.
    with translation.override(language):
        authorize(request, job_id, None)


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Served outside Django's middleware: the language is chosen here, as ``suite_ai.languages``
    chooses it for the rest of the API, and holds for the refusals and the ``failed`` event."""
    headers = dict(scope.get("headers", ()))
    language = language_for(headers.get(b"accept-language", b"").decode("latin-1"))
    with translation.override(language):
        await _stream(scope, receive, send, headers, language)


async def _stream(scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], language: str) -> None:
    query_string: bytes = scope.get("query_string", b"")
    query = parse_qs(query_string.decode("latin-1"))
    ticket = query["ticket"][0] if "ticket" in query else None
    if ticket is not None:
        # The server's access log, if turned on, prints the query string from this very scope
        # when the response starts: it never sees the ticket.
        scope["query_string"] = TICKET_IN_QUERY.sub(rb"\1ticket=redacted", query_string)
    cors = cors_headers(scope) if b"origin" in headers else []
    cors.append((b"content-language", language.encode("ascii")))
    match = PATH.match(scope["path"])
    try:
        job_id = streams.job_key(match["pk"]) if match else ""
    except ValueError:
        job_id = ""
    if not job_id:
        await _refuse(send, Refused(404, "not_found", _("No job with this id.")), cors)
        return
    header = headers.get(b"last-event-id")
    resume_from = last_event_id(header.decode("latin-1") if header is not None else query.get("last_event_id", [""])[0])
    hub = streams.hub()
    try:
        if ticket is not None:
            authorize(None, job_id, ticket)
        else:
            await hub.openings.run(_authorize_in, language, ASGIRequest(scope, io.BytesIO()), job_id)
    except Refused as refused:
        await _refuse(send, refused, cors)
        return

    follower = hub.join(job_id, resume_from)
    watcher: asyncio.Task[None] | None = None
    try:
        await hub.ready(follower)
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS + cors})
        await send({"type": "http.response.body", "body": RETRY, "more_body": True})
        watcher = asyncio.create_task(_watch_disconnect(receive, follower))
        await _pump(follower, send)
    finally:
        hub.leave(follower)
        if watcher is not None:
            watcher.cancel()


async def _pump(follower: streams.Follower, send: Send) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.SUITE_AI_SSE_MAX_DURATION
    # Streams opened together would otherwise send their keep-alives together, a burst that holds
    # the event loop (and every request waiting on it); each keeps its own interval, within the
    # setting, so that no proxy's idle timeout is crossed.
    heartbeat = settings.SUITE_AI_SSE_HEARTBEAT * random.uniform(0.75, 1.0)
    while not follower.gone:
        events = follower.take()
        if events:
            end = next((index for index, event in enumerate(events) if event.terminal), None)
            sent = events if end is None else events[: end + 1]
            body = b"".join(_localized_frame(e) if e.kind == JobEvent.Kind.FAILED else e.frame for e in sent)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            if end is not None:
                break
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            async with asyncio.timeout(min(heartbeat, remaining)):
                await follower.wake.wait()
        except TimeoutError:
            if loop.time() < deadline:
                await send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _localized_frame(event: streams.StreamEvent) -> bytes:
    """A job's ``failed`` event in the stream's language (the others carry no message)."""
    return streams.sse_frame(event.id, event.kind, failures.localize_event(event.data))


async def _watch_disconnect(receive: Receive, follower: streams.Follower) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    follower.leave()


async def _refuse(send: Send, refused: Refused, cors: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"code": refused.code, "message": refused.message}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *cors]
    if refused.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def cors_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The CORS headers Django's CORS middleware, when installed, gives the other API answers:
    this endpoint is served outside Django's middleware, and a browser reads a stream from
    another origin only with them."""
    if CORS_MIDDLEWARE not in settings.MIDDLEWARE:
        return []
    from corsheaders.middleware import CorsMiddleware

    response = HttpResponse()
    CorsMiddleware(lambda request: response).add_response_headers(ASGIRequest(scope, io.BytesIO()), response)
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower().startswith("access-control-") or name.lower() == "vary"
    ]


# --- Under a WSGI server or the test client ---------------------------------------------------------


def job_events(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    if request.method != "GET":
        return JsonResponse(
            {"code": "method_not_allowed", "message": str(exceptions.MethodNotAllowed(request.method or "").detail)},
            status=405,
            json_dumps_params={"ensure_ascii": False},
        )
    job_id = str(pk)
    try:
        authorize(request, job_id, request.GET.get("ticket"))
    except Refused as refused:
        refusal = JsonResponse(
            {"code": refused.code, "message": refused.message},
            status=refused.status,
            json_dumps_params={"ensure_ascii": False},
        )
        if refused.status == 401:
            refusal["WWW-Authenticate"] = "Bearer"
        return refusal
    after = last_event_id(request.headers.get("Last-Event-ID") or request.GET.get("last_event_id"))
    events = JobEvent.objects.filter(job_id=job_id, id__gt=after).order_by("id").values_list("id", "kind", "data")
    frames = [RETRY]
    for event_id, kind, data in events:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        frames.append(streams.sse_frame(event_id, kind, failures.localize_event(text) if kind == "failed" else text))
        if kind in streams.TERMINAL_KINDS:
            break
    response = HttpResponse(b"".join(frames), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
