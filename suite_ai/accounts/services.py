from __future__ import annotations

from suite_ai.accounts.models import ApiToken, User, hash_token


def create_api_token(username: str, name: str = "") -> str:
    """Create the user if needed and return a new token; the clear token is shown only once."""
    user, _ = User.objects.get_or_create(sub=username)
    token = ApiToken.generate()
    ApiToken.objects.create(user=user, name=name, token_hash=hash_token(token), prefix=token[:12])
    return token


def user_for_api_token(token: str) -> User | None:
    api_token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).only("user").first()
    if api_token is None or not api_token.user.is_active:
        return None
    return api_token.user
