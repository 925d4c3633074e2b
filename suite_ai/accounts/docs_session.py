"""Docs' own browser session as suite_ai's credential, as Docs' y-provider uses it (reference §3.3).

When suite_ai is served on Docs' domain (one ingress rule), the browser sends it Docs' session
cookie (``docs_sessionid``). suite_ai cannot read Docs' session store, so it asks Docs with that
cookie: ``GET /api/v1.0/users/me/`` says who the user is, ``GET /api/v1.0/documents/{id}/`` what
they may do with a document (``abilities``). Both answers are cached for
``SUITE_AI_DOCS_SESSION_CACHE`` seconds, keyed by a hash of the cookie (never the cookie itself).

The cookie goes to ``DOCS_BASE_URL`` only, is never logged, and is stored nowhere but, encrypted,
on a running job that must read the document or write a note as the user (``Credentials`` of kind
``docs_session``, wiped when the job ends).

Unsafe methods are checked as Docs' Django checks them (DRF ``SessionAuthentication.enforce_csrf``
→ Django's ``CsrfViewMiddleware``): the ``csrftoken`` cookie, an equal ``X-CSRFToken`` header, and
an ``Origin`` (or, without one, a ``Referer``) on Docs' public origin (``DOCS_PUBLIC_URL``, else
``DOCS_BASE_URL``). A request from any other site cannot send that header with the cookie.

Identity: Docs' ``users/me`` gives Docs' own user id and e-mail, not the OIDC ``sub`` that bearer
tokens carry. As Docs itself does (``OIDC_FALLBACK_TO_EMAIL_FOR_IDENTIFICATION``), the person is
recognised by e-mail: a session finds the suite_ai user with that e-mail; a person seen first
through a session gets a user whose ``sub`` is ``docs:<Docs user id>``, and the first OIDC token
of the same e-mail takes that user over (``suite_ai.accounts.oidc.upsert_user``) — one user, one
history, one quota, whichever door they come through.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.middleware.csrf import (
    REASON_BAD_ORIGIN,
    REASON_CSRF_TOKEN_MISSING,
    REASON_NO_CSRF_COOKIE,
    REASON_NO_REFERER,
)
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request

from suite_ai.accounts.authentication import AuthError, ensure_active
from suite_ai.accounts.models import User
from suite_ai.accounts.oidc import SESSION_SUB_PREFIX, InvalidIdentity, _clean
from suite_ai.lasuite_docs import (
    DocsClient,
    DocsDocument,
    DocsError,
    DocsNotFound,
    DocsSession,
    DocsUnauthorized,
    DocsUnavailable,
    RetryPolicy,
)

__all__ = [
    "DocsError",
    "DocsNotFound",
    "DocsUnauthorized",
    "DocsUnavailable",
]  # for the API, which reaches Docs only here

CSRF_COOKIE = "csrftoken"  # Docs' CSRF_COOKIE_NAME (Django's default; fetchApi.ts/utils.ts read it)
CSRF_HEADER = "X-CSRFToken"  # what Docs' fetchAPI sends
# Django's CsrfViewMiddleware._bad_token_message for the header Docs reads.
REASON_CSRF_TOKEN_INCORRECT = "CSRF token from the 'X-Csrftoken' HTTP header incorrect."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOOKUP_TIMEOUT = 5.0  # seconds: a slow Docs must not hold a request long
LOOKUP_RETRY = RetryPolicy(max_attempts=2, max_inline_wait=0.0)
_CACHE_LIMIT = 10_000


def enabled() -> bool:
    return bool(settings.DOCS_BASE_URL) and bool(settings.SUITE_AI_DOCS_SESSION_AUTH)


def session_cookie(cookies: dict[str, str]) -> str | None:
    value = cookies.get(str(settings.DOCS_SESSION_COOKIE_NAME), "").strip()
    return value or None


def docs_origin() -> str:
    url = urlsplit(str(settings.DOCS_PUBLIC_URL or settings.DOCS_BASE_URL or ""))
    return f"{url.scheme}://{url.netloc}".lower() if url.scheme and url.netloc else ""


def session_strategy(session: str) -> DocsSession:
    """Docs' CSRF check compares the ``csrftoken`` cookie with the ``X-CSRFToken`` header (both
    sent here) and the ``Origin``: a token of our own, in Django's format (32 letters and
    digits), passes it, so the browser's token is never stored."""
    return DocsSession(
        session=session,
        csrf_token=secrets.token_hex(16),
        origin=docs_origin(),
        cookie_name=str(settings.DOCS_SESSION_COOKIE_NAME),
    )


def session_client(session: str, *, timeout: float | None = None, retry: RetryPolicy | None = None) -> DocsClient:
    return DocsClient(
        str(settings.DOCS_BASE_URL),
        session=session_strategy(session),
        timeout=timeout or settings.DOCS_TIMEOUT,
        retry=retry or (LOOKUP_RETRY if timeout else None),
        public_url=settings.DOCS_PUBLIC_URL,
    )


# --- CSRF, as Docs' Django ---------------------------------------------------------------------------


def csrf_failure(method: str, cookies: dict[str, str], headers: dict[str, str]) -> str | None:
    """Django's reason for refusing an unsafe request (the text DRF puts after "CSRF Failed: "),
    or None. ``headers`` keys are lower case."""
    if method.upper() in SAFE_METHODS:
        return None
    trusted = docs_origin()
    origin = headers.get("origin", "")
    if origin:
        if origin.rstrip("/").lower() != trusted:
            return REASON_BAD_ORIGIN % origin
    else:
        referer = headers.get("referer", "")
        if not referer:
            return REASON_NO_REFERER
        parts = urlsplit(referer)
        if f"{parts.scheme}://{parts.netloc}".lower() != trusted:
            return f"Referer checking failed - {referer} does not match any trusted origins."
    cookie = cookies.get(CSRF_COOKIE, "")
    if not cookie:
        return REASON_NO_CSRF_COOKIE
    sent = headers.get(CSRF_HEADER.lower(), "")
    if not sent:
        return REASON_CSRF_TOKEN_MISSING
    if not hmac.compare_digest(sent.encode(), cookie.encode()):
        return REASON_CSRF_TOKEN_INCORRECT
    return None


# --- What Docs says of a session, cached briefly ---------------------------------------------------


@dataclass(frozen=True)
class DocsIdentity:
    docs_id: str
    email: str
    name: str


@dataclass
class _TTLCache:
    entries: dict[str, tuple[float, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> Any:
        with self.lock:
            found = self.entries.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: str, value: Any, ttl: float) -> None:
        with self.lock:
            if len(self.entries) >= _CACHE_LIMIT:
                now = time.monotonic()
                self.entries = {k: v for k, v in self.entries.items() if v[0] >= now}
                if len(self.entries) >= _CACHE_LIMIT:
                    self.entries.clear()
            self.entries[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


CACHE = _TTLCache()


def _session_key(session: str) -> str:
    # A keyed hash: the cache never holds a cookie, nor anything a dump could replay.
    return hmac.new(settings.SECRET_KEY.encode(), session.encode(), hashlib.sha256).hexdigest()


def identity(session: str) -> DocsIdentity:
    """Who the session belongs to; DocsUnauthorized when Docs does not know it (logged out,
    expired, an anonymous session)."""
    key = f"me:{_session_key(session)}"
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    with session_client(session, timeout=LOOKUP_TIMEOUT) as client:
        me = client.get_me()
    found = DocsIdentity(
        docs_id=str(me["id"]),
        email=str(me.get("email") or ""),
        name=str(me.get("full_name") or me.get("short_name") or ""),
    )
    CACHE.put(key, found, settings.SUITE_AI_DOCS_SESSION_CACHE)
    return found


def document(session: str, document_id: uuid.UUID) -> DocsDocument:
    """The document as the session's user sees it (its ``abilities``)."""
    key = f"doc:{_session_key(session)}:{document_id}"
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    with session_client(session, timeout=LOOKUP_TIMEOUT) as client:
        found = client.get_document(document_id)
    CACHE.put(key, found, settings.SUITE_AI_DOCS_SESSION_CACHE)
    return found


def user_for(found: DocsIdentity) -> User:
    """The suite_ai user of a Docs identity: the user with its e-mail (the OIDC one first), else
    the one this session created before, else a new ``docs:<id>`` user."""
    sub = _clean(SESSION_SUB_PREFIX + found.docs_id, "sub", User._meta.get_field("sub").max_length or 255)
    email = _clean(found.email, "email", User._meta.get_field("email").max_length or 254)
    name = "".join(char for char in found.name if ord(char) >= 32 and ord(char) != 127)[:255]
    user: User | None = None
    if email:
        # An OIDC user (a real sub) wins over a session-created one if both exist.
        candidates = User.objects.filter(Q(email__iexact=email) | Q(sub=sub)).order_by("created_at")
        by_email = [u for u in candidates if u.email.lower() == email.lower()]
        oidc = [u for u in by_email if not u.sub.startswith(SESSION_SUB_PREFIX)]
        ranked = oidc or by_email or list(candidates)
        user = ranked[0] if ranked else None
    else:
        user = User.objects.filter(sub=sub).first()
    if user is None:
        user, _created = User.objects.get_or_create(sub=sub, defaults={"email": email, "name": name})
    return ensure_active(user)


# --- DRF authentication for suite_ai's own API ---------------------------------------------------------


@dataclass(frozen=True)
class SessionCall:
    """``request.auth`` for a Docs session: forwarded to Docs' ``/api/v1.0/`` by jobs that read
    the document or write a note as the user."""

    session: str = field(repr=False)


def refusal_for(error: DocsError) -> AuthError:
    if isinstance(error, DocsUnauthorized):
        return AuthError("docs_session_invalid", _("Docs does not recognise this session: sign in to Docs again."))
    if error.code in {"docs_unavailable", "docs_rate_limited", "docs_bad_response"}:
        return AuthError(
            "docs_unavailable",
            _("Docs could not be reached to check the session; try again shortly."),
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return AuthError("docs_session_invalid", _("Docs does not recognise this session: sign in to Docs again."))


class DocsSessionAuthentication:
    """Claims requests without an ``Authorization`` header that carry Docs' session cookie."""

    def authenticate(self, request: Request) -> tuple[User, SessionCall] | None:
        if not enabled() or request.headers.get("Authorization"):
            return None
        session = session_cookie(request.COOKIES)
        if session is None:
            return None
        try:
            found = identity(session)
        except DocsError as error:
            raise refusal_for(error) from None
        # As DRF's SessionAuthentication: CSRF is checked for an authenticated session only.
        headers = {name.lower(): value for name, value in request.headers.items()}
        reason = csrf_failure(request.method or "GET", request.COOKIES, headers)
        if reason is not None:
            raise AuthError("csrf_failed", f"CSRF Failed: {reason}", status.HTTP_403_FORBIDDEN)
        try:
            user = user_for(found)
        except InvalidIdentity:
            raise AuthError("docs_session_invalid", _("Docs' account for this session cannot be used here.")) from None
        return user, SessionCall(session=session)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
