"""DRF authentication classes. Each one claims only the bearer tokens it recognises, so they chain."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from suite_ai.accounts.models import TOKEN_PREFIX, User
from suite_ai.accounts.services import user_for_api_token


def bearer_token(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != b"bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(_("Invalid Authorization header: expected 'Bearer <token>'."))
    try:
        return header[1].decode()
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed(_("Invalid token encoding.")) from exc


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Local tokens created with ``manage.py create_token``: ``Authorization: Bearer sai_…``."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        token = bearer_token(request)
        if token is None or not token.startswith(TOKEN_PREFIX):
            return None
        user = user_for_api_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
