"""The API's request parsers.

Kept apart from ``api_errors``: DRF resolves ``DEFAULT_PARSER_CLASSES`` while ``rest_framework.views``
is being imported, which ``api_errors`` imports, so the parser must not depend on it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status


class BodyTooDeep(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request body nests JSON values too deeply.")
    # Read by api_errors.exception_handler for the body's ``code``.
    stable_code = "input_too_deep"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested deeper than ``json`` can parse (it recurses per level
    and raises RecursionError near the interpreter's limit) is a 400 ``input_too_deep``, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise BodyTooDeep() from None
