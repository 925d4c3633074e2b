"""ASGI entry point.

The event stream (GET ``…/jobs/{id}/events/``) is a plain ASGI endpoint (``suite_ai.jobs.api.events``):
an open stream costs a coroutine, not a thread. So are Docs' own AI paths (POST
``…/documents/{id}/ai-transform/`` and ``ai-translate/``, ``suite_ai.jobs.api.docs_ai``), which
wait for their job. The rest of the API is synchronous Django: it is
served through the WSGI application on a fixed pool of reused threads (``suite_ai.wsgi_bridge``).
The model endpoint (``/v1/…``, ``suite_ai.model_endpoint``) and Docs' ``ai-proxy``
(``suite_ai.docs_ai_proxy``) are plain ASGI too: a call waiting for its model holds no thread.
Django's own ASGI handler is not used: it runs each request on a new thread, which costs a new
database and cache connection per request, and a stream would keep both while it is open.
"""

import os
from importlib import import_module
from typing import Any

import django

from suite_ai.startup import load_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
load_settings()  # a bad variable: one line and exit status 2, not uvicorn's traceback

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from suite_ai.accounts import docs_session  # noqa: E402
from suite_ai.docs_ai_proxy import endpoint as docs_ai_proxy  # noqa: E402
from suite_ai.jobs import streams  # noqa: E402
from suite_ai.jobs.api import docs_ai, events  # noqa: E402
from suite_ai.model_endpoint import endpoint as model_endpoint  # noqa: E402
from suite_ai.model_endpoint import upstream as model_upstream  # noqa: E402
from suite_ai.runtime import settle_garbage_collector  # noqa: E402
from suite_ai.wsgi_bridge import BufferedWSGI  # noqa: E402

django_wsgi = BufferedWSGI(
    get_wsgi_application(),
    threads=settings.SUITE_AI_WEB_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                import_module(settings.ROOT_URLCONF)  # import every view before settling the collector
                settle_garbage_collector()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await streams.shutdown()
                await model_upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["method"] == "GET" and events.PATH.match(scope["path"]):
        await events.stream(scope, receive, send)  # other methods (a CORS preflight): Django's
    elif scope["type"] == "http" and model_endpoint.matches(scope["path"]):
        await model_endpoint.handle(scope, receive, send)
    elif (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and docs_session.enabled()
        and docs_ai.PATH.match(scope["path"])
    ):
        await docs_ai.serve(scope, receive, send)  # waits for its job as a coroutine, not a thread
    elif scope["type"] == "http" and scope["method"] == "POST" and docs_ai_proxy.PATH.match(scope["path"]):
        await docs_ai_proxy.serve(scope, receive, send)  # Docs' ai-proxy: a stream held by no thread
    else:
        await django_wsgi(scope, receive, send)
