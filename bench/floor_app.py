"""The two HTTP requests of a followed result, doing nothing else: what bench/floor_bench.py serves.

The service's own web stack (uvicorn, the ASGI entry's split between plain ASGI streams and the
synchronous Django application on ``suite_ai.wsgi_bridge``, every middleware, DRF's parsing,
validation and rendering), with no authentication, no database, no broker and no model:

- ``POST /floor/documents/{id}/actions/`` validates an action's body and answers 202 with an id;
- ``GET /floor/jobs/{id}/events/`` answers the events of a followed job, timed as the fake model's
  jobs in bench/sse_bench.py are: ``running`` at once, a first delta after ``FIRST_DELTA`` and the
  last delta with ``done`` after ``MODEL_DELAY``.

Run: ``uvicorn bench.floor_app:application`` (with ``DJANGO_SECRET_KEY`` set).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.permissions import AllowAny  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from suite_ai.jobs.api.events import RETRY, STREAM_HEADERS  # noqa: E402
from suite_ai.runtime import settle_garbage_collector  # noqa: E402
from suite_ai.wsgi_bridge import BufferedWSGI  # noqa: E402

FIRST_DELTA = 0.2
MODEL_DELAY = 2.0
EVENTS_PATH = re.compile(r"^/floor/jobs/(?P<pk>[0-9a-f-]{36})/events/$")


class ActionBody(serializers.Serializer[dict[str, Any]]):
    action = serializers.CharField(max_length=32)
    input = serializers.DictField()


class Submit(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def post(self, request: Request, document_id: uuid.UUID) -> Response:
        ActionBody(data=request.data).is_valid(raise_exception=True)
        job_id = uuid.uuid4()
        links = {"events": f"/floor/jobs/{job_id}/events/"}
        return Response({"id": str(job_id), "status": "queued", "links": links}, status=202)


urlpatterns = [path("floor/documents/<uuid:document_id>/actions/", Submit.as_view())]
settings.ROOT_URLCONF = __name__

django_wsgi = BufferedWSGI(
    get_wsgi_application(), threads=settings.SUITE_AI_WEB_THREADS, max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE
)


def _frame(event_id: int, kind: str, data: dict[str, Any]) -> bytes:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode()


async def _events(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    await send({"type": "http.response.body", "body": RETRY, "more_body": True})
    await send({"type": "http.response.body", "body": _frame(1, "status", {"status": "running"}), "more_body": True})
    await asyncio.sleep(FIRST_DELTA)
    await send({"type": "http.response.body", "body": _frame(2, "delta", {"text": "Une"}), "more_body": True})
    await asyncio.sleep(MODEL_DELAY - FIRST_DELTA)
    last = _frame(3, "delta", {"text": " phrase reformulée."}) + _frame(4, "done", {"status": "succeeded"})
    await send({"type": "http.response.body", "body": last, "more_body": False})


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                settle_garbage_collector()  # as the service's web process does
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["method"] == "GET" and EVENTS_PATH.match(scope["path"]):
        await _events(send)
    else:
        await django_wsgi(scope, receive, send)
