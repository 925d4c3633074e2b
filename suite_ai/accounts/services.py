from __future__ import annotations

import threading
import time

from suite_ai.accounts.models import ApiToken, User, hash_token

# Every API call authenticates; remembering a token's user for a short while saves a query per
# request. A revoked token stops working within this delay.
TOKEN_CACHE_SECONDS = 30.0
_token_cache: dict[str, tuple[float, User]] = {}
_token_cache_lock = threading.Lock()


def create_api_token(username: str, name: str = "") -> str:
    """Create the user if needed and return a new token; the clear token is shown only once."""
    user, _ = User.objects.get_or_create(sub=username)
    token = ApiToken.generate()
    ApiToken.objects.create(user=user, name=name, token_hash=hash_token(token), prefix=token[:12])
    return token


def revoke_api_tokens(user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    with _token_cache_lock:
        _token_cache.clear()
    return deleted


def user_for_api_token(token: str) -> User | None:
    token_hash = hash_token(token)
    now = time.monotonic()
    cached = _token_cache.get(token_hash)
    if cached is not None and cached[0] > now:
        return cached[1]
    api_token = ApiToken.objects.select_related("user").filter(token_hash=token_hash).first()
    if api_token is None or not api_token.user.is_active:
        return None
    with _token_cache_lock:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[token_hash] = (now + TOKEN_CACHE_SECONDS, api_token.user)
    return api_token.user
