"""ASGI entry point.

The event stream is an async view, so an idle SSE client costs a coroutine, not a thread. The
rest of the API is synchronous Django: it is served through the WSGI application on a fixed
pool of reused threads. (Django's own ASGI handler runs each synchronous request on a new
thread, which costs a new database and cache connection per request: about 7 ms of CPU each.)
"""

import os
import re
from typing import Any

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")

django_asgi = get_asgi_application()

from django.core.wsgi import get_wsgi_application  # noqa: E402

# A fixed pool: its threads keep their database (pooled) and cache connections between requests.
django_wsgi = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]
    workers=int(os.environ.get("SUITE_AI_WEB_THREADS", "16")),
)
EVENT_STREAM = re.compile(r"^/api/v1\.0/jobs/[^/]+/events/$")


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and EVENT_STREAM.match(scope["path"]):
        await django_asgi(scope, receive, send)
    else:
        await django_wsgi(scope, receive, send)  # type: ignore[arg-type]
