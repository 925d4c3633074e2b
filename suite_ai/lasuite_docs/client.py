"""A synchronous REST client for La Suite Docs (httpx).

One ``DocsClient`` per unit of work (a Celery task, a request): it holds a connection pool and
the ``docs_sessionid`` cookie Docs hands out, which its collaboration safeguard keys on, so keep
using the same client for the calls of one write. Configuration comes from the caller; this module
knows nothing of Django.

Call paths (see ``auth``): document calls go to ``/external_api/v1.0/`` with the user's token,
``create_for_owner`` to ``/api/v1.0/`` with the server-to-server token, ``get_config`` anonymously.

Failures (``errors``): 4xx map to typed errors; 5xx, timeouts and connection errors are retried a
bounded number of times with exponential backoff and jitter, then raise ``DocsUnavailable``. A
request that may have reached Docs is only retried when repeating it is harmless (GET, PATCH of a
full state, a create with a client-chosen id); otherwise a lost answer raises
``DocsOutcomeUnknown``, and the caller finds out before repeating anything. A 429 is waited out in
place only when its ``Retry-After`` is short (``RetryPolicy.max_inline_wait``); a longer wait
raises ``DocsRateLimited(retry_after)`` so a Celery task re-schedules itself instead of sleeping.

Docs has only DRF's JSON renderer: every call asks for ``application/json`` (the content endpoint,
which streams text, for ``*/*``); any other ``Accept`` is answered 406 (reference §9).

Logs carry the method, the path, the status and timings: never a header, a token or a body.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from suite_ai.lasuite_docs.auth import (
    API_ROOT,
    Anonymous,
    AuthStrategy,
    DocsSession,
    ServerToServerToken,
    UserAuth,
    UserToken,
)
from suite_ai.lasuite_docs.errors import (
    DocsBadRequest,
    DocsBadResponse,
    DocsCollaborationLocked,
    DocsError,
    DocsForbidden,
    DocsNotConfigured,
    DocsNotFound,
    DocsOutcomeUnknown,
    DocsRateLimited,
    DocsUnauthorized,
    DocsUnavailable,
    message_from_body,
)
from suite_ai.lasuite_docs.version import ContentApi, DocsConfig
from suite_ai.retrying import backoff_delay, parse_retry_after

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=20.0, write=20.0, pool=5.0)
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# Docs' message when COLLABORATION_WS_NOT_CONNECTED_READ_ONLY refuses a REST write.
COLLABORATION_LOCKED_DETAIL = "You are not allowed to edit this document."
# How long Docs keeps the "someone wrote without websocket" lock (NO_WEBSOCKET_CACHE_TIMEOUT).
COLLABORATION_LOCK_SECONDS = 120.0
# Docs' treebeard materialized path: each level adds this many characters.
PATH_STEP = 7
USER_AGENT = "suite_ai-docs-client/1.0"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. ``max_attempts`` counts the first try."""

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    # A 429 whose Retry-After is at most this many seconds is slept through in place.
    max_inline_wait: float = 5.0
    # Retry-After to assume when a 429 has none (DRF always sends one).
    default_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1`` (``attempt`` ≥ 1): exponential, capped, jittered."""
        return backoff_delay(attempt - 1, base=self.backoff_base, cap=self.backoff_max)


@dataclass(frozen=True)
class DocsDocument:
    """A document as Docs serializes it (``DocumentSerializer``); ``raw`` has every field."""

    id: str
    title: str | None
    abilities: Mapping[str, Any] = field(repr=False)
    user_role: str | None
    path: str
    depth: int
    numchild: int
    link_reach: str | None
    link_role: str | None
    computed_link_reach: str | None
    deleted_at: str | None
    # Docs <= 4.8 only: the base64 Yjs content, part of the document payload.
    content: str | None = field(default=None, repr=False)
    has_content_field: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: Any) -> DocsDocument:
        if not isinstance(payload, Mapping) or not payload.get("id"):
            raise DocsBadResponse("Docs answered a document without an id.")
        abilities = payload.get("abilities")
        content = payload.get("content")
        return cls(
            id=str(payload["id"]),
            title=payload.get("title"),
            abilities=dict(abilities) if isinstance(abilities, Mapping) else {},
            user_role=payload.get("user_role"),
            path=str(payload.get("path") or ""),
            depth=int(payload.get("depth") or 0),
            numchild=int(payload.get("numchild") or 0),
            link_reach=payload.get("link_reach"),
            link_role=payload.get("link_role"),
            computed_link_reach=payload.get("computed_link_reach"),
            deleted_at=payload.get("deleted_at"),
            content=content if isinstance(content, str) else None,
            has_content_field="content" in payload,
            raw=dict(payload),
        )

    def can(self, ability: str) -> bool:
        return bool(self.abilities.get(ability))

    def is_child_of(self, parent: DocsDocument) -> bool:
        """True when this document sits directly under ``parent`` in Docs' tree."""
        return (
            bool(parent.path)
            and self.path.startswith(parent.path)
            and len(self.path) == len(parent.path) + PATH_STEP
            and self.depth == parent.depth + 1
        )


@dataclass(frozen=True)
class DocsContent:
    """A document's content: the base64 text of a Yjs update, exactly as Docs stores it."""

    content_b64: str = field(repr=False)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.content_b64.strip()

    def update_bytes(self) -> bytes:
        """The Yjs update itself (``pycrdt.Doc().apply_update(...)`` reads it)."""
        return base64.b64decode(self.content_b64) if self.content_b64 else b""


def as_base64_text(content: str | bytes) -> str:
    """A content argument as Docs wants it: ``str`` is base64 text already (checked), ``bytes`` is
    the raw Yjs update (encoded here)."""
    if isinstance(content, bytes):
        return base64.b64encode(content).decode("ascii")
    try:
        base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("content must be base64 text (or the raw Yjs update as bytes)") from error
    return content


class _ConfigCache:
    """Docs' configuration and detected content API per base URL, shared by the clients of a
    process so that each task does not re-read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: dict[str, tuple[float, DocsConfig]] = {}
        self._content_api: dict[str, ContentApi] = {}

    def get(self, base_url: str, ttl: float) -> DocsConfig | None:
        with self._lock:
            found = self._configs.get(base_url)
        if found and time.monotonic() - found[0] < ttl:
            return found[1]
        return None

    def put(self, base_url: str, config: DocsConfig) -> None:
        with self._lock:
            self._configs[base_url] = (time.monotonic(), config)

    def detected(self, base_url: str) -> ContentApi | None:
        with self._lock:
            return self._content_api.get(base_url)

    def detect(self, base_url: str, api: ContentApi) -> None:
        with self._lock:
            self._content_api[base_url] = api

    def clear(self) -> None:
        with self._lock:
            self._configs.clear()
            self._content_api.clear()


CONFIG_CACHE = _ConfigCache()


@functools.cache
def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """One TLS context per ``verify`` setting, shared by every client of the process: a client is
    made per task and per session lookup, and building a context loads and parses the whole CA
    bundle (docs/performance.md)."""
    return httpx.create_ssl_context(verify=verify)


class DocsClient:
    """The Docs REST client. ``base_url`` is the instance's root (``DOCS_BASE_URL``, e.g.
    ``https://docs.example.org``): the API lives under it, and so do the frontend's
    ``/docs/{id}/`` pages that ``document_url`` builds, unless ``public_url`` says otherwise (a
    compose network reaches Docs as ``http://docs-frontend:8083``, browsers as
    ``http://localhost:8083``)."""

    def __init__(
        self,
        base_url: str,
        *,
        user_token: str | None = None,
        server_token: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        content_api: ContentApi | str = "auto",
        config_ttl: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
        public_url: str | None = None,
        session: DocsSession | None = None,
    ) -> None:
        if not base_url:
            raise DocsNotConfigured("No Docs instance is configured (DOCS_BASE_URL is empty).")
        self.base_url = base_url.rstrip("/")
        # Where people open Docs, when it differs from where this service reaches it (compose).
        self.public_url = (public_url or base_url).rstrip("/")
        # The user's own credentials: an OIDC token (external API) or a Docs session (/api/v1.0/).
        self._user: UserAuth | None = session or (UserToken(user_token) if user_token else None)
        self._server = ServerToServerToken(server_token) if server_token else None
        self.retry = retry or RetryPolicy()
        self._forced_api = None if content_api == "auto" else ContentApi(content_api)
        self._config_ttl = config_ttl
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            verify=tls_context(verify),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"DocsClient(base_url={self.base_url!r}, user_token={'set' if self._user else 'unset'})"

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DocsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URLs -------------------------------------------------------------------------------

    def document_url(self, document_id: str | uuid.UUID) -> str:
        """The document's page in Docs' frontend (``public_url``, by default ``base_url``)."""
        return f"{self.public_url}/docs/{document_id}/"

    def _user_auth(self) -> UserAuth:
        if self._user is None:
            raise DocsNotConfigured("This call acts as the user on Docs and needs their access token or session.")
        return self._user

    def _server_auth(self) -> ServerToServerToken:
        if self._server is None:
            raise DocsNotConfigured(
                "create-for-owner needs a server-to-server token (DOCS_SERVER_TO_SERVER_TOKEN), "
                "listed in Docs' DJANGO_SERVER_TO_SERVER_API_TOKENS."
            )
        return self._server

    # -- configuration and version ----------------------------------------------------------

    def get_config(self, *, refresh: bool = False) -> DocsConfig:
        """Docs' public configuration (cached per base URL for ``config_ttl`` seconds)."""
        if not refresh:
            cached = CONFIG_CACHE.get(self.base_url, self._config_ttl)
            if cached is not None:
                return cached
        response = self._request("GET", f"{API_ROOT}config/", auth=Anonymous(), idempotent=True)
        config = DocsConfig.from_payload(self._json(response))
        CONFIG_CACHE.put(self.base_url, config)
        return config

    def content_api(self, document_id: str | uuid.UUID | None = None) -> ContentApi:
        """Which content API this Docs speaks. Forced by configuration, else from
        ``RELEASE_VERSION``, else from a document's payload (needs ``document_id`` the first time)."""
        if self._forced_api is not None:
            return self._forced_api
        api = self.get_config().content_api or CONFIG_CACHE.detected(self.base_url)
        if api is not None:
            return api
        if document_id is None:
            raise DocsNotConfigured(
                "Docs does not publish RELEASE_VERSION (before 5.1): read a document first, "
                "or configure the content API."
            )
        self.get_document(document_id)  # detects as a side effect
        detected = CONFIG_CACHE.detected(self.base_url)
        assert detected is not None
        return detected

    def _note_document_shape(self, document: DocsDocument) -> None:
        if self._forced_api is None and CONFIG_CACHE.detected(self.base_url) is None:
            config = CONFIG_CACHE.get(self.base_url, self._config_ttl)
            if config is None or config.content_api is None:
                CONFIG_CACHE.detect(self.base_url, ContentApi.LEGACY if document.has_content_field else ContentApi.V5)

    # -- documents --------------------------------------------------------------------------

    def _docs_path(self, document_id: str | uuid.UUID, suffix: str = "") -> str:
        return f"{self._user_auth().api_root}documents/{uuid.UUID(str(document_id))}/{suffix}"

    def get_document(self, document_id: str | uuid.UUID) -> DocsDocument:
        """Metadata, ``abilities`` and ``user_role`` of a document (external API ``retrieve``)."""
        response = self._request("GET", self._docs_path(document_id), auth=self._user_auth(), idempotent=True)
        document = DocsDocument.from_payload(self._json(response))
        self._note_document_shape(document)
        return document

    def get_me(self) -> dict[str, Any]:
        """The user the credentials belong to (``GET users/me/``: Docs' own ``id``, ``email``,
        ``full_name``, ``short_name``, ``language``; ``UserSerializer`` in Docs' serializers.py)."""
        auth = self._user_auth()
        response = self._request("GET", f"{auth.api_root}users/me/", auth=auth, idempotent=True)
        payload = self._json(response)
        if not isinstance(payload, dict) or not payload.get("id"):
            raise DocsBadResponse("Docs' users/me/ answer has no user id.", status=response.status_code)
        return payload

    @property
    def acts_as_user(self) -> bool:
        """True when the client holds the user's token, so it can read what the user can."""
        return self._user is not None

    def find_my_documents(self, title: str, *, limit: int = 100) -> list[DocsDocument]:
        """The user's own top-level documents whose title contains ``title`` (Docs folds accents
        and case), newest first: ``GET documents/?is_creator_me=true&title=…`` (external API
        ``list``, enabled by default). One page of at most ``limit``."""
        response = self._request(
            "GET",
            f"{self._user_auth().api_root}documents/",
            auth=self._user_auth(),
            params={"is_creator_me": "true", "title": title, "ordering": "-created_at", "page_size": limit},
            idempotent=True,
        )
        payload = self._json(response)
        results = payload.get("results") if isinstance(payload, Mapping) else payload
        if not isinstance(results, list):
            raise DocsBadResponse("Docs answered a document list without results.")
        return [DocsDocument.from_payload(item) for item in results]

    def create_child(
        self,
        parent_id: str | uuid.UUID,
        *,
        title: str,
        document_id: str | uuid.UUID | None = None,
        content: str | bytes | None = None,
    ) -> DocsDocument:
        """``POST documents/{parent}/children/`` → the new child (201).

        ``document_id`` is a client-chosen UUID; Docs answers 400 ``{"id": ["A document with this
        ID already exists. You cannot override it."]}`` when it is taken (see ``notes``). With an id
        the call is idempotent and retried like a GET. ``content`` is only accepted by Docs <= 4.8
        (where it is a serializer field); from 5.0 write it with ``update_content``."""
        body: dict[str, Any] = {"title": title}
        if document_id is not None:
            body["id"] = str(uuid.UUID(str(document_id)))
        if content is not None:
            if self.content_api(parent_id) is not ContentApi.LEGACY:
                raise ValueError("Docs >= 5.0 has no content field on create: call update_content().")
            body["content"] = as_base64_text(content)
        response = self._request(
            "POST",
            self._docs_path(parent_id, "children/"),
            auth=self._user_auth(),
            json=body,
            idempotent=document_id is not None,
            expected=(201,),
        )
        return DocsDocument.from_payload(self._json(response))

    def upload_child(
        self,
        parent_id: str | uuid.UUID,
        *,
        filename: str,
        data: bytes,
        content_type: str = "text/markdown",
        document_id: str | uuid.UUID | None = None,
    ) -> DocsDocument:
        """Create a child from a file Docs converts (needs ``CONVERSION_UPLOAD_ENABLED``; the
        extension must be in ``CONVERSION_FILE_EXTENSIONS_ALLOWED``). Docs sets the child's title
        to ``filename``, extension included. The part's content type is forwarded to the converter
        as is: markdown must say ``text/markdown``."""
        form: dict[str, str] = {}
        if document_id is not None:
            form["id"] = str(uuid.UUID(str(document_id)))
        response = self._request(
            "POST",
            self._docs_path(parent_id, "children/"),
            auth=self._user_auth(),
            data=form,
            files={"file": (filename, data, content_type)},
            idempotent=document_id is not None,
            expected=(201,),
        )
        return DocsDocument.from_payload(self._json(response))

    # -- content ----------------------------------------------------------------------------

    def get_content(self, document_id: str | uuid.UUID, *, etag: str | None = None) -> DocsContent:
        """The document's content (base64 Yjs). Docs >= 5: ``GET content/`` with ``If-None-Match``
        when ``etag`` is given (``not_modified`` then means: unchanged, no body). Docs <= 4.8: the
        ``content`` field of the document (no ETag there)."""
        if self.content_api(document_id) is ContentApi.LEGACY:
            document = self.get_document(document_id)
            return DocsContent(content_b64=document.content or "")
        # The body is text/plain, but Docs negotiates against its JSON renderer first (406).
        headers = {"Accept": "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        response = self._request(
            "GET",
            self._docs_path(document_id, "content/"),
            auth=self._user_auth(),
            headers=headers,
            idempotent=True,
            expected=(200, 304),
        )
        if response.status_code == 304:
            return DocsContent(content_b64="", etag=etag, not_modified=True)
        return DocsContent(
            content_b64=response.text.strip(),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    def update_content(self, document_id: str | uuid.UUID, content: str | bytes, *, websocket: bool = False) -> None:
        """Replace the stored content with a full Yjs state (base64 text, or the raw update as
        bytes). Build it on the document's current state, or write it only into a new document:
        never push an independently built doc into one people may hold (see DESIGN).
        ``websocket=True`` tells Docs the writer is in sync with the live room and skips its
        collaboration safeguard: only say so when it is true."""
        body = {"content": as_base64_text(content), "websocket": websocket}
        if self.content_api(document_id) is ContentApi.LEGACY:
            self._request(
                "PATCH",
                self._docs_path(document_id),
                auth=self._user_auth(),
                json=body,
                idempotent=True,
                expected=(200,),
            )
            return
        self._request(
            "PATCH",
            self._docs_path(document_id, "content/"),
            auth=self._user_auth(),
            json=body,
            idempotent=True,
            expected=(204, 200),
        )

    # -- server to server -------------------------------------------------------------------

    def create_for_owner(
        self,
        *,
        title: str,
        markdown: str,
        sub: str,
        email: str,
        language: str | None = None,
        send_notification_email: bool | None = None,
        message: str | None = None,
        subject: str | None = None,
    ) -> str:
        """``POST /api/v1.0/documents/create-for-owner/`` with the server-to-server token: a new
        *root* document owned by the user ``sub`` (or an owner invitation to ``email`` when Docs
        does not know them), content converted from markdown by Docs. Returns its id.

        Docs has no idempotency key here, so the request is retried only when it certainly did not
        reach Docs (connection refused, 429). When it may have been applied (a 5xx: Docs creates the
        document, then fails sending the owner's mail; a timeout) it raises ``DocsOutcomeUnknown``
        and is never repeated here."""
        body: dict[str, Any] = {"title": title, "content": markdown, "sub": sub, "email": email}
        optional = {
            "language": language,
            "send_notification_email": send_notification_email,
            "message": message,
            "subject": subject,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        auth = self._server_auth()
        response = self._request(
            "POST",
            f"{auth.api_root}documents/create-for-owner/",
            auth=auth,
            json=body,
            idempotent=False,
            expected=(201,),
        )
        payload = self._json(response)
        if not isinstance(payload, Mapping) or not payload.get("id"):
            raise DocsBadResponse("Docs answered create-for-owner without an id.")
        return str(payload["id"])

    # -- transport --------------------------------------------------------------------------

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise DocsBadResponse(
                f"Docs answered {response.status_code} without JSON on {response.request.url.path}.",
                status=response.status_code,
            ) from error

    def _request(
        self,
        method: str,
        path: str,
        *,
        auth: AuthStrategy,
        idempotent: bool,
        expected: tuple[int, ...] = (200,),
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        request_headers = {**auth.headers(), **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            last_attempt = attempt >= self.retry.max_attempts
            try:
                response = self._http.request(
                    method, path, json=json, data=data, files=files, params=params, headers=request_headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                # The request never reached Docs: repeating it is always safe.
                self._log_failure(method, path, attempt, type(error).__name__)
                if last_attempt:
                    raise DocsUnavailable(f"Docs could not be reached ({type(error).__name__}).") from None
                self._sleep(self.retry.backoff(attempt))
                continue
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                # Docs may have processed it: repeat only what is harmless to repeat.
                self._log_failure(method, path, attempt, type(error).__name__)
                if not idempotent:
                    raise DocsOutcomeUnknown(
                        f"Docs did not answer ({type(error).__name__}); the request may have been applied."
                    ) from None
                if last_attempt:
                    raise DocsUnavailable(f"Docs did not answer ({type(error).__name__}).") from None
                self._sleep(self.retry.backoff(attempt))
                continue
            elapsed_ms = (time.monotonic() - started) * 1000
            status = response.status_code
            logger.debug("docs %s %s -> %s (%.0f ms, attempt %d)", method, path, status, elapsed_ms, attempt)
            if status in expected:
                return response
            if status == 429:
                hinted = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.retry.default_retry_after if hinted is None else hinted
                if wait <= self.retry.max_inline_wait and not last_attempt:
                    logger.info("docs %s %s throttled; retrying in %.1f s", method, path, wait)
                    self._sleep(wait)
                    continue
                raise DocsRateLimited(f"Docs is throttling these requests; retry in {wait:.0f} s.", retry_after=wait)
            if status >= 500:
                self._log_failure(method, path, attempt, f"HTTP {status}")
                if not idempotent:
                    raise DocsOutcomeUnknown(
                        f"Docs answered {status}; the request may have been applied.", status=status
                    )
                if status in RETRYABLE_STATUSES and not last_attempt:
                    self._sleep(self.retry.backoff(attempt))
                    continue
                raise DocsUnavailable(f"Docs answered {status}.", status=status)
            raise self._error_for(response, auth)

    @staticmethod
    def _log_failure(method: str, path: str, attempt: int, what: str) -> None:
        logger.warning("docs %s %s failed: %s (attempt %d)", method, path, what, attempt)

    @staticmethod
    def _error_for(response: httpx.Response, auth: AuthStrategy) -> DocsError:
        status = response.status_code
        answered_json = True
        try:
            body: Any = response.json()
        except ValueError:
            answered_json = False
            body = response.text[:300] if "html" not in response.headers.get("Content-Type", "") else ""
        external = isinstance(auth, UserToken)
        if status == 400 and external and not answered_json:
            # Reference §9: Docs' resource server answers Django's HTML 400 page for an expired,
            # revoked or inactive token, one from another issuer, or one without scope/audience.
            return DocsUnauthorized(
                "Docs refused the access token (expired, revoked, or not issued for Docs): "
                "sign in again to get a fresh one.",
                status=status,
            )
        if status == 401:
            return DocsUnauthorized(
                "Docs refused the credentials: "
                + message_from_body(body, "unauthorized")
                + (" (the access token may have expired)." if external else "."),
                status=status,
                errors=body,
            )
        if status == 403:
            detail = message_from_body(body, "forbidden")
            if detail == COLLABORATION_LOCKED_DETAIL:
                return DocsCollaborationLocked(
                    "Docs refuses REST writes to this document while it is edited live "
                    "(COLLABORATION_WS_NOT_CONNECTED_READ_ONLY).",
                    status=status,
                    errors=body,
                    retry_after=COLLABORATION_LOCK_SECONDS,
                )
            hint = (
                " On Docs' external API this also means the action is not enabled in EXTERNAL_API, or "
                "the token's audience is not in OIDC_RS_ALLOWED_AUDIENCES."
                if external
                else ""
            )
            return DocsForbidden(f"Docs refused: {detail}.{hint}", status=status, errors=body)
        if status == 404:
            return DocsNotFound("Docs has no such document (or route).", status=status, errors=body)
        return DocsBadRequest(
            f"Docs rejected the request ({status}): " + message_from_body(body, "bad request"),
            status=status,
            errors=body,
        )


__all__ = ["CONFIG_CACHE", "DocsClient", "DocsContent", "DocsDocument", "RetryPolicy", "as_base64_text"]
