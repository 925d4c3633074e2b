"""The playground's development user and its local token."""

from __future__ import annotations

from suite_ai.accounts.models import ApiToken, User
from suite_ai.accounts.services import create_api_token

PLAYGROUND_USER = "playground"
TOKEN_NAME = "playground"
# Every page load gets its own token (only hashes are stored, so an earlier one cannot be shown
# again); the oldest are revoked so reloads do not pile them up, while a few open tabs keep working.
KEPT_TOKENS = 10


def issue_token() -> str:
    """A fresh local token for the playground's user, created with the user on first use."""
    token = create_api_token(PLAYGROUND_USER, TOKEN_NAME)
    user = User.objects.get(sub=PLAYGROUND_USER)
    stale = ApiToken.objects.filter(user=user, name=TOKEN_NAME).order_by("-created_at", "-pk")[KEPT_TOKENS:]
    ApiToken.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return token
