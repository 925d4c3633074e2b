"""One error shape for the whole API: ``{"code": "<stable_snake_case>", "message": "<for a person>", ...}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def _message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return f"{key}: {_message(value)}"
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        from django.conf import settings

        exc = APIError(
            "input_too_large",
            f"The request body exceeds the limit of {settings.SUITE_AI_MAX_INPUT_BYTES} bytes.",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            limit_bytes=settings.SUITE_AI_MAX_INPUT_BYTES,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, APIError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, **exc.extra}
    else:
        code = getattr(exc, "stable_code", None) or next(
            (c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), "error"
        )
        detail = getattr(exc, "detail", str(exc))
        body = {"code": code, "message": _message(detail)}
        if isinstance(exc, exceptions.ValidationError):
            body["errors"] = detail
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["retry_after"] = int(wait)
    response.data = body
    return response


def not_found_view(request: Any, exception: Exception | None = None) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"code": "not_found", "message": "No such resource."}, status=404)


def server_error_view(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse(
        {"code": "internal_error", "message": "Internal error. The team has been notified."}, status=500
    )
