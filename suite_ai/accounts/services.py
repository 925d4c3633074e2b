from __future__ import annotations

from suite_ai.accounts.models import ApiToken, User, hash_token


def create_api_token(username: str, name: str = "") -> str:
    """Create the user if needed and return a new token; the clear token is shown only once."""
    user, _ = User.objects.get_or_create(sub=username)
    token = ApiToken.generate()
    ApiToken.objects.create(user=user, name=name, token_hash=hash_token(token), prefix=token[:12])
    return token


def revoke_api_tokens(user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def user_for_api_token(token: str) -> User | None:
    """The token's user, read on every request (one indexed join): a token revoked, a user
    deactivated or deleted stops working at once, in every process, where a per-process cache
    kept them working for its lifetime and handed out deleted users (whose jobs then failed on
    their foreign key)."""
    api_token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    return api_token.user if api_token is not None else None
