"""``GET /api/v1.0/jobs/{id}/events/``: the job's events as Server-Sent Events.

An async view: an idle client costs a coroutine, not a thread. The stream replays everything
after ``Last-Event-ID``, sends a comment as heartbeat, ends with the job (``done``, ``failed``,
``cancelled``) or after a maximum duration, after which EventSource reconnects and resumes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from suite_ai.jobs.models import Job, JobEvent

TERMINAL_KINDS = frozenset({JobEvent.Kind.DONE, JobEvent.Kind.FAILED, JobEvent.Kind.CANCELLED})
BATCH = 500


def _authenticate(request: HttpRequest) -> Any:
    drf_request = Request(request)
    for authenticator_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        found = authenticator_class().authenticate(drf_request)  # type: ignore[operator]
        if found is not None:
            return found[0]
    raise exceptions.NotAuthenticated("Authentication credentials were not provided.")


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _last_event_id(request: HttpRequest) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        return 0


def format_event(event: JobEvent) -> str:
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


async def _stream(job_id: str, last_id: int) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    started = time.monotonic()
    last_sent = started
    while time.monotonic() - started < settings.SUITE_AI_SSE_MAX_DURATION:
        events = [
            event async for event in JobEvent.objects.filter(job_id=job_id, id__gt=last_id).order_by("id")[:BATCH]
        ]
        for event in events:
            last_id = event.id
            yield format_event(event)
            if event.kind in TERMINAL_KINDS:
                return
        if events:
            last_sent = time.monotonic()
            if len(events) == BATCH:
                continue
        elif time.monotonic() - last_sent >= settings.SUITE_AI_SSE_HEARTBEAT:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(settings.SUITE_AI_SSE_POLL_INTERVAL)


async def job_events(request: HttpRequest, pk: str) -> HttpResponseBase:
    if request.method != "GET":
        return _error("method_not_allowed", f'Method "{request.method}" not allowed.', 405)
    try:
        user = await sync_to_async(_authenticate)(request)
    except exceptions.APIException as error:
        return _error("not_authenticated", str(error.detail), 401)
    if not await Job.objects.filter(id=pk, owner=user).aexists():
        return _error("not_found", "No job with this id.", 404)
    response = StreamingHttpResponse(_stream(pk, _last_event_id(request)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
