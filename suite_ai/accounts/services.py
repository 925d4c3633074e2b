from __future__ import annotations

import functools

from django.db import connection

from suite_ai import prebuilt_sql
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
    their foreign key). The statement is built once: the ORM compiled the join anew for every
    request (docs/performance.md, section 3); tests/jobs/test_services_sql.py compares the user
    with the ORM's."""
    with connection.cursor() as cursor:
        cursor.execute(_user_for_token_sql(connection.vendor), [hash_token(token)])
        row = cursor.fetchone()
    return prebuilt_sql.from_row(User, row) if row is not None else None


@functools.cache
def _user_for_token_sql(vendor: str) -> str:
    """Cached per database vendor, whose quoting it uses."""
    quote = connection.ops.quote_name
    users, tokens = User._meta.db_table, ApiToken._meta.db_table

    def column(model: type[User | ApiToken], name: str) -> str:
        (field,) = (field for field in model._meta.concrete_fields if field.name == name)
        return f"{quote(model._meta.db_table)}.{quote(str(field.column))}"

    return (
        f"SELECT {prebuilt_sql.columns(User, users)} FROM {quote(users)} JOIN {quote(tokens)}"  # noqa: S608 (names)
        f" ON {column(ApiToken, 'user')} = {column(User, 'id')} WHERE {column(ApiToken, 'token_hash')} = %s"
    )
