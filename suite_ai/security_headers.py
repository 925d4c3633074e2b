"""A Content-Security-Policy on every answer, and the nonce of the one inline script we serve.

The HTML pages (Swagger UI, ReDoc, the admin) load everything from the service itself (whitenoise):
scripts only from our origin, plus Swagger UI's start-up script, which carries this response's
nonce (jobs/templates/jobs/swagger_ui.html). Styles allow inline ones: Swagger UI and ReDoc set
style attributes and inject <style> elements from their scripts. ReDoc runs its search in a worker
made from a blob: URL. Nothing may frame the pages. Every other answer (JSON, event streams, static
files) gets a policy that allows nothing: a browser that renders one, by mistake or by an attacker's
link, runs nothing from it.

HSTS is Django's SecurityMiddleware (SECURE_HSTS_SECONDS): sent only on HTTPS requests, which behind
a TLS proxy needs DJANGO_SECURE_PROXY_SSL_HEADER.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]

PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _nonce(request: HttpRequest) -> str:
    nonce = secrets.token_urlsafe(18)
    request.csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


def _with_policy(response: HttpResponseBase, nonce: str) -> HttpResponseBase:
    if "Content-Security-Policy" not in response:
        html = response.get("Content-Type", "").startswith("text/html")
        response["Content-Security-Policy"] = PAGE_POLICY.format(nonce=nonce) if html else NOTHING_POLICY
    return response


@sync_and_async_middleware
def content_security_policy(get_response: Handler | AsyncHandler) -> Handler | AsyncHandler:
    if iscoroutinefunction(get_response):
        async_response = cast(AsyncHandler, get_response)

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            nonce = _nonce(request)
            return _with_policy(await async_response(request), nonce)

        return markcoroutinefunction(async_middleware)

    sync_response = cast(Handler, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        nonce = _nonce(request)
        return _with_policy(sync_response(request), nonce)

    return middleware
