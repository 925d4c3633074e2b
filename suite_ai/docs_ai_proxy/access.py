"""Who may open an ai-proxy stream on a document, and how often: synchronous checks, run on a
thread of the endpoint's pool (they read the database, Redis and Docs).

``authorize_docs_ai`` is the one door. It takes the API's credentials: Docs' session cookie (what
Docs' own frontend sends: ``suite_ai.accounts.docs_session``, CSRF as Docs), whose document
``abilities`` come from Docs' ``/api/v1.0/`` with that session; a user's OIDC token, whose abilities
come from Docs' external API; or a service token, for which the Docs backend vouches.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.settings import api_settings

from suite_ai.accounts import docs_session
from suite_ai.accounts.models import User
from suite_ai.accounts.oidc import ServiceCall, UserAccessToken
from suite_ai.api_errors import APIError
from suite_ai.jobs.api.docs_ai import rate_wait
from suite_ai.jobs.api.views import check_quotas
from suite_ai.lasuite_docs import DocsDocument, DocsError, DocsUnavailable
from suite_ai.pipeline.documents import SUBMISSION_RETRY, SUBMISSION_STATUS, SUBMISSION_TIMEOUT, docs_client


class CallerKind(StrEnum):
    DOCS_USER = "docs_user"  # Docs checked the ability for this user
    SERVICE = "service"  # the Docs backend, which vouches for the user (service token)
    UNCHECKED = "unchecked"  # no Docs configured to ask (development): the credentials alone decide


@dataclass(frozen=True)
class Caller:
    user: User
    kind: CallerKind


def _authenticate(request: HttpRequest) -> tuple[User, Any]:
    drf_request = Request(request)
    for authenticator_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        found = authenticator_class().authenticate(drf_request)  # type: ignore[operator]
        if found is not None:
            return found
    raise exceptions.NotAuthenticated()


def _docs_refusal(error: DocsError) -> APIError:
    if isinstance(error, DocsUnavailable):
        return APIError(
            "docs_unavailable",
            _("Docs cannot be reached to check your rights on this document; try again shortly."),
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    extra: dict[str, Any] = {"detail": error.message}
    if error.retry_after is not None:
        extra["retry_after"] = max(1, round(error.retry_after))
    messages = {
        "docs_unauthorized": _("Docs refused your access token: sign in again to get a fresh one."),
        "docs_forbidden": _("Docs does not let you do this with this document."),
        "docs_not_found": _("Docs has no such document."),
        "docs_rate_limited": _("Docs is throttling these requests; try again shortly."),
    }
    message = messages.get(error.code) or _("Docs refused the request.")
    return APIError(error.code, message, SUBMISSION_STATUS.get(error.code, 400), **extra)


def _with_ability(user: User, document: DocsDocument, ability: str) -> Caller:
    if not document.can(ability):
        raise APIError(
            "docs_forbidden", _("Docs does not let you use its AI on this document."), status.HTTP_403_FORBIDDEN
        )
    return Caller(user, CallerKind.DOCS_USER)


def authorize_docs_ai(request: HttpRequest, document_id: uuid.UUID, ability: str = "ai_proxy") -> Caller:
    """The caller, if Docs gives them ``ability`` on the document; else an ``APIException``: the
    authentication's own (401, or an ``AuthError`` with its code), or an ``APIError`` (403
    ``docs_forbidden`` without the ability, Docs' refusals)."""
    user, auth = _authenticate(request)
    if isinstance(auth, ServiceCall):
        return Caller(user, CallerKind.SERVICE)
    if isinstance(auth, docs_session.SessionCall):
        try:
            document = docs_session.document(auth.session, document_id)
        except DocsError as error:
            raise _docs_refusal(error) from None
        return _with_ability(user, document, ability)
    if not settings.DOCS_BASE_URL:
        # No Docs to ask (development, the playground): as a job whose input is sent, the
        # credentials alone decide.
        return Caller(user, CallerKind.UNCHECKED)
    if not isinstance(auth, UserAccessToken):
        raise APIError(
            "docs_token_required",
            _("Docs' AI needs an OIDC access token from La Suite's identity provider: Docs checks your rights."),
            status.HTTP_401_UNAUTHORIZED,
        )
    try:
        with docs_client(auth.token, timeout=SUBMISSION_TIMEOUT, retry=SUBMISSION_RETRY) as client:
            document = client.get_document(document_id)
    except DocsError as error:
        raise _docs_refusal(error) from None
    return _with_ability(user, document, ability)


def check_limits(caller: Caller, document_id: uuid.UUID, tokens: int) -> None:
    """Docs' per-user and per-document AI rates, counted with ai-transform and ai-translate
    (``throttled``), then the daily token quotas (``quota_exceeded``), as the job API applies them."""
    found = rate_wait(caller.user.pk, document_id)
    if found is not None:
        scope, wait = found
        seconds = max(1, math.ceil(wait))
        raise APIError(
            "throttled",
            str(exceptions.Throttled(seconds).detail),
            status.HTTP_429_TOO_MANY_REQUESTS,
            scope=scope,
            retry_after=seconds,
        )
    check_quotas(caller.user, document_id, tokens, None)
