"""OIDC resource server, as in the rest of La Suite (django-lasuite, token introspection).

Unlike the library's default backend, a valid token for a ``sub`` we have not seen yet creates
its local user: suite_ai has no login of its own, its users arrive with Docs' tokens.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from lasuite.oidc_resource_server.authentication import ResourceServerAuthentication
from lasuite.oidc_resource_server.backend import ResourceServerBackend
from rest_framework import status
from rest_framework.request import Request

from suite_ai.accounts.authentication import AuthError, bearer_token, ensure_active
from suite_ai.accounts.models import TOKEN_PREFIX, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserAccessToken:
    """``request.auth`` for OIDC callers: the token is forwarded to Docs' external API."""

    token: str
    audience: str

    def __repr__(self) -> str:
        return f"UserAccessToken(audience={self.audience!r}, token=<hidden>)"


@dataclass(frozen=True)
class ServiceCall:
    """``request.auth`` for the Docs backend acting on behalf of a user with a service token."""

    on_behalf_of: str


class InvalidIdentity(ValueError):
    """A ``sub``, e-mail or name that cannot be stored: ``field`` names which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _clean(value: str, field: str, limit: int) -> str:
    # Stored as given or refused: a column would refuse it later (Postgres: over its length, or a NUL).
    if len(value) > limit or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidIdentity(field)
    return value


def upsert_user(sub: str, email: str = "", name: str = "") -> User:
    """The user of ``sub``, created or updated; refuses (InvalidIdentity) what the columns cannot
    hold, and a deactivated user (AuthError ``account_disabled``)."""
    sub = _clean(sub, "sub", User._meta.get_field("sub").max_length or 255)
    email = _clean(email, "email", User._meta.get_field("email").max_length or 254)
    # A display name is only shown: cut rather than refuse the call.
    name = "".join(char for char in name if ord(char) >= 32 and ord(char) != 127)
    name = name[: User._meta.get_field("name").max_length or 255]
    if email and not User.objects.filter(sub=sub).exists():
        _adopt_session_user(sub, email)
    user, created = User.objects.get_or_create(sub=sub, defaults={"email": email, "name": name})
    ensure_active(user)
    if not created and ((email and user.email != email) or (name and user.name != name)):
        user.email = email or user.email
        user.name = name or user.name
        user.save(update_fields=["email", "name"])
    return user


SESSION_SUB_PREFIX = "docs:"  # suite_ai.accounts.docs_session: users first seen through a Docs session


def _adopt_session_user(sub: str, email: str) -> None:
    """A person first seen through Docs' session (``docs:<Docs id>``) now comes with a token: that
    user becomes theirs, matched by e-mail as Docs matches its users (see accounts.docs_session)."""
    session_user = (
        User.objects.filter(sub__startswith=SESSION_SUB_PREFIX, email__iexact=email).order_by("created_at").first()
    )
    if session_user is not None:
        User.objects.filter(pk=session_user.pk, sub=session_user.sub).update(sub=sub)


class UserCreatingResourceServerBackend(ResourceServerBackend):
    def get_or_create_user(self, access_token: str, id_token: Any, payload: dict[str, Any]) -> User:
        sub = payload.get("sub")
        if not sub:
            raise SuspiciousOperation("The introspection response has no 'sub'.")
        name = payload.get("name") or " ".join(
            part for part in (payload.get("given_name"), payload.get("family_name")) if part
        )
        try:
            return upsert_user(str(sub), str(payload.get("email") or ""), str(name or ""))
        except InvalidIdentity as error:
            raise AuthError(
                "invalid_token",
                _("The access token was refused."),
                detail=f"the identity provider's {error.field!r} cannot be stored",
            ) from None


class OIDCResourceServerAuthentication(ResourceServerAuthentication):
    """Claims bearer tokens that are neither local (``sai_…``) nor service tokens."""

    def authenticate(self, request: Request) -> tuple[User, UserAccessToken] | None:
        token = bearer_token(request)
        if token is None or token.startswith(TOKEN_PREFIX) or is_service_token(token):
            return None
        try:
            found = super().authenticate(request)
        except SuspiciousOperation as error:
            # The library's reason is English and technical: a detail for developers.
            raise AuthError("invalid_token", _("The access token was refused."), detail=str(error)) from None
        except requests.RequestException:
            logger.warning("OIDC introspection endpoint unreachable")
            raise AuthError(
                "auth_provider_unavailable",
                _("The identity provider could not be reached to check the token; try again shortly."),
                status.HTTP_503_SERVICE_UNAVAILABLE,
            ) from None
        if found is None:
            return None
        user, _claims = found
        audience = str(getattr(request, "resource_server_token_audience", "") or "")
        if settings.OIDC_RS_ALLOWED_AUDIENCES and audience not in settings.OIDC_RS_ALLOWED_AUDIENCES:
            raise AuthError("token_audience_not_allowed", _("This token was issued for another application."))
        return user, UserAccessToken(token=self.get_access_token(request), audience=audience)


SERVICE_SUB_HEADER = "X-Suite-AI-User-Sub"
SERVICE_EMAIL_HEADER = "X-Suite-AI-User-Email"
SERVICE_NAME_HEADER = "X-Suite-AI-User-Name"


def is_service_token(token: str) -> bool:
    return any(hmac.compare_digest(token, known) for known in settings.SUITE_AI_SERVICE_TOKENS)


class ServiceTokenAuthentication:
    """The Docs backend submits on behalf of a user: a service token plus the user's sub and email."""

    def authenticate(self, request: Request) -> tuple[User, ServiceCall] | None:
        token = bearer_token(request)
        if token is None or not is_service_token(token):
            return None
        sub = request.headers.get(SERVICE_SUB_HEADER, "").strip()
        email = request.headers.get(SERVICE_EMAIL_HEADER, "").strip()
        if not sub or not email:
            raise AuthError(
                "missing_on_behalf_of",
                _("A service token acts on behalf of a user: send %(sub)s and %(email)s.")
                % {"sub": SERVICE_SUB_HEADER, "email": SERVICE_EMAIL_HEADER},
                status.HTTP_400_BAD_REQUEST,
            )
        try:
            user = upsert_user(sub, email, request.headers.get(SERVICE_NAME_HEADER, "").strip())
        except InvalidIdentity as error:
            header = SERVICE_SUB_HEADER if error.field == "sub" else SERVICE_EMAIL_HEADER
            raise AuthError(
                "invalid_on_behalf_of",
                _("%(header)s is not valid: too long, or with control characters.") % {"header": header},
                status.HTTP_400_BAD_REQUEST,
                header=header,
            ) from None
        return user, ServiceCall(on_behalf_of=sub)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
