"""One error shape for the whole API: ``{"code": "<stable_snake_case>", "message": "<for a person>", ...}``.

``code`` is the contract (README, "Error codes"); ``message`` is in the language the request asks
for (``Accept-Language``, fr or en, through Django's LocaleMiddleware). suite_ai's own messages are
marked for translation where they are raised; Django REST framework's are translated by DRF,
except its JSON parse error, which the handler below words itself, so that a French answer is
French throughout. ``detail``, when present, is technical English from a peer or
a library (Docs, the BlockNote validator), for developers.

Django's own error pages (400, 403, 404, 500, a refused ``Host``, a CSRF failure) are JSON in the
same shape.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from suite_ai import error_reporting

logger = logging.getLogger(__name__)


class APIError(exceptions.APIException):
    """An error with a stable machine-readable code; raise it from views and services."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, status_code: int | None = None, **extra: Any) -> None:
        super().__init__(detail=message, code=code)
        self.code = code
        self.message = message
        self.extra = extra
        if status_code is not None:
            self.status_code = status_code
        # DRF's handler turns ``wait`` into a Retry-After header.
        self.wait = extra.get("retry_after")


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_request",
}


def body_too_large() -> APIError:
    """The request body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, the limit Django enforces on every
    body (a margin above the input limits, so an oversized input is named by its own check)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return APIError(
        "input_too_large",
        _("The request body exceeds the limit of %(limit)d bytes.") % {"limit": limit},
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        limit_bytes=limit,
    )


# errno values of a full disk or an exhausted quota; SQLite and Postgres say it their own way.
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the data directory (SQLite
    database, embedded broker folder) or the database server's disk is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlstate", None) == _POSTGRES_DISK_FULL or getattr(current, "pgcode", None) == (
            _POSTGRES_DISK_FULL
        ):
            return True
        name = getattr(current, "sqlite_errorname", "")
        if name == "SQLITE_FULL":
            return True
        # SQLite cannot always tell: growing its shared-memory index or its WAL on a full disk is
        # "disk I/O error" (SQLITE_IOERR_…). It is a full disk when the database's disk is full.
        if name.startswith("SQLITE_IOERR") and _sqlite_disk_full():
            return True
        current = current.__cause__ or current.__context__
    return False


_NEARLY_FULL = 1 << 20  # bytes: less than this free and SQLite cannot grow its files in practice


def _sqlite_disk_full() -> bool:
    database = settings.DATABASES["default"]
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return False
    try:
        stats = os.statvfs(os.path.dirname(os.path.abspath(str(database["NAME"]))))
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < _NEARLY_FULL


def storage_full() -> APIError:
    return APIError(
        "storage_full",
        _("The service cannot store anything now: its storage is full. Try again later."),
        status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def _message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return f"{key}: {_message(value)}"
    return str(detail)


def _parse_error_message(exc: exceptions.ParseError) -> str:
    # DRF words a JSON error as "JSON parse error - <json's own English>", untranslated: say it
    # ourselves, with the position json reports (DRF raises from inside its ``except ValueError``).
    cause = exc.__context__
    if isinstance(cause, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
            "line": cause.lineno,
            "column": cause.colno,
        }
    return _("The request body is not valid JSON.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        exc = body_too_large()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if not isinstance(exc, exceptions.APIException) and is_storage_full(exc):
        # An operator's problem, not a bug: the client may try again, the logs say what is full.
        logger.warning("storage full (%s): a request could not be served", type(exc).__name__)
        exc = storage_full()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django reports it (Sentry) and answers with server_error_view
    if isinstance(exc, APIError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, **exc.extra}
    else:
        code = getattr(exc, "stable_code", None) or next(
            (c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)),
            "internal_error" if response.status_code >= 500 else "bad_request",
        )
        detail = getattr(exc, "detail", str(exc))
        body = {"code": code, "message": _message(detail), **getattr(exc, "extra", {})}
        if isinstance(exc, exceptions.ParseError):
            body["message"] = _parse_error_message(exc)
        if isinstance(exc, exceptions.ValidationError):
            body["errors"] = detail
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["retry_after"] = int(wait)
    response.data = body
    return response


# --- Django's error views (urls.handler400/403/404/500) ----------------------------------------------
# Reached by what never gets to a DRF view: a refused Host header, an unknown route, a body Django
# itself refuses, an exception DRF does not handle. LocaleMiddleware has already picked the
# language when CommonMiddleware refuses the Host, so these answer in it as well.


def error_response(code: str, message: str, status_code: int, **extra: Any) -> JsonResponse:
    # UTF-8 as DRF's renderer writes it, not \u escapes: the same bytes whichever path answers.
    return JsonResponse(
        {"code": code, "message": message, **extra}, status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, DisallowedHost):
        # No host name in the message: it is whatever the client sent.
        return error_response(
            "disallowed_host",
            _("This service does not answer for the host name in the request (DJANGO_ALLOWED_HOSTS)."),
            status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exception, RequestDataTooBig):
        error = body_too_large()
        return error_response(error.code, error.message, error.status_code, **error.extra)
    return error_response("bad_request", _("The request is malformed."), status.HTTP_400_BAD_REQUEST)


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # DRF's own words (translated by DRF), so the code reads the same from a view and from Django.
    return error_response(
        "permission_denied", str(exceptions.PermissionDenied.default_detail), status.HTTP_403_FORBIDDEN
    )


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response("not_found", str(exceptions.NotFound.default_detail), status.HTTP_404_NOT_FOUND)


def csrf_failure_view(request: HttpRequest, reason: str = "") -> JsonResponse:
    """``CSRF_FAILURE_VIEW``: a cookie-authenticated write (the admin's forms) without a valid CSRF
    token. Django's reason ("CSRF token missing", "Origin checking failed"…) is technical English."""
    return error_response(
        "csrf_failed",
        _("The request was refused: its CSRF token is missing or invalid. Reload the page and try again."),
        status.HTTP_403_FORBIDDEN,
        detail=reason,
    )


def server_error_view(request: HttpRequest) -> JsonResponse:
    # Django calls this view while handling the exception: a full disk outside a DRF view (a
    # middleware's write) is still a 503 the client may retry, not an internal error.
    raised = sys.exc_info()[1]
    if raised is not None and is_storage_full(raised):
        error = storage_full()
        return error_response(error.code, error.message, error.status_code)
    # Sentry's Django integration captured the exception before Django called this view; say the
    # team knows only when that is true.
    if error_reporting.enabled():
        message = _("Internal error. The team has been notified.")
    else:
        message = _("Internal error: the request could not be completed.")
    return error_response("internal_error", message, status.HTTP_500_INTERNAL_SERVER_ERROR)
