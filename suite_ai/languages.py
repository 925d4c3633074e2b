"""The language of each response's messages: French or English, from ``Accept-Language``.

This is Django's LocaleMiddleware reduced to what an API needs. LocaleMiddleware also looks for
a language prefix in every URL path, twice per request, though suite_ai has no ``i18n_patterns``
(each miss, "api" or "health", raises and catches a LookupError its cache does not keep), reads
the language cookie, and negotiates ``Accept-Language`` anew each time: work on every request's
hot path for nothing an API uses (measured in docs/performance.md). Here the negotiation is Django's own
(``get_language_from_request``: ``Accept-Language`` against ``LANGUAGES``, else
``LANGUAGE_CODE``), done once per distinct header value; the language is activated for the
request and announced in ``Content-Language``, with ``Vary: Accept-Language`` for caches.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.decorators import sync_and_async_middleware

Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@functools.lru_cache(maxsize=512)  # browsers send a handful of distinct values
def language_for(accept_language: str) -> str:
    """The language Django negotiates for this ``Accept-Language`` (no cookie, no URL prefix)."""
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request)


def _activate(request: HttpRequest) -> str:
    language = language_for(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def _announce(response: HttpResponseBase, language: str) -> HttpResponseBase:
    if "Vary" in response:
        patch_vary_headers(response, ("Accept-Language",))
    else:
        response["Vary"] = "Accept-Language"
    response.headers.setdefault("Content-Language", language)
    return response


@sync_and_async_middleware  # the event stream is an async view: no thread hop for it
def request_language(get_response: Handler | AsyncHandler) -> Handler | AsyncHandler:
    if iscoroutinefunction(get_response):
        async_response = cast(AsyncHandler, get_response)

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            language = _activate(request)
            return _announce(await async_response(request), language)

        return markcoroutinefunction(async_middleware)

    sync_response = cast(Handler, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        language = _activate(request)
        return _announce(sync_response(request), language)

    return middleware
