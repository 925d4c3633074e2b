"""DRF authentication classes. Each one claims only the bearer tokens it recognises, so they chain."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, status
from rest_framework.request import Request

from suite_ai.accounts.models import TOKEN_PREFIX, User
from suite_ai.accounts.services import user_for_api_token


class AuthError(exceptions.AuthenticationFailed):
    """``extra`` goes into the error body beside code and message (suite_ai.api_errors)."""

    def __init__(self, code: str, message: str, status_code: int = status.HTTP_401_UNAUTHORIZED, **extra: Any) -> None:
        super().__init__(message, code)
        self.stable_code = code
        self.status_code = status_code
        self.extra = extra


def ensure_active(user: User) -> User:
    """A deactivated account acts through no door: local token, OIDC token or service token."""
    if not user.is_active:
        raise AuthError(
            "account_disabled", _("This account is deactivated; ask an administrator."), status.HTTP_403_FORBIDDEN
        )
    return user


def bearer_token(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != b"bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(gettext_lazy("Invalid Authorization header: expected 'Bearer <token>'."))
    try:
        return header[1].decode()
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed(gettext_lazy("Invalid token encoding.")) from exc


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Local tokens created with ``manage.py create_token``: ``Authorization: Bearer sai_…``."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        token = bearer_token(request)
        if token is None or not token.startswith(TOKEN_PREFIX):
            return None
        user = user_for_api_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed(gettext_lazy("Invalid or revoked token."))
        return ensure_active(user), None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
