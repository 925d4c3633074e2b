"""ASGI entry point.

The event stream is an async view, so an idle SSE client costs a coroutine, not a thread. The
rest of the API is synchronous Django: it is served through the WSGI application on a fixed
pool of reused threads (``suite_ai.wsgi_bridge``). (Django's own ASGI handler runs each
synchronous request on a new thread, which costs a new database and cache connection per
request: about 7 ms of CPU each.)
"""

import os
import re
from importlib import import_module
from typing import Any

from django.core.asgi import get_asgi_application

from suite_ai.startup import load_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
load_settings()  # a bad variable: one line and exit status 2, not uvicorn's traceback

django_asgi = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from suite_ai.runtime import settle_garbage_collector  # noqa: E402
from suite_ai.wsgi_bridge import BufferedWSGI  # noqa: E402

django_wsgi = BufferedWSGI(
    get_wsgi_application(),
    threads=settings.SUITE_AI_WEB_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
EVENT_STREAM = re.compile(r"^/api/v1\.0/jobs/[^/]+/events/$")


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                import_module(settings.ROOT_URLCONF)  # import every view before settling the collector
                settle_garbage_collector()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and EVENT_STREAM.match(scope["path"]):
        await django_asgi(scope, receive, send)
    else:
        await django_wsgi(scope, receive, send)
