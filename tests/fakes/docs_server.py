"""A fake La Suite Docs backend on loopback, faithful to the contracts suite_ai relies on.

Read from suitenumerique/docs (5.4.1+, and v4.8.6 for the legacy mode) and django-lasuite 0.1.0;
see shared/reference/lasuite-docs.md. What it does, like Docs:

* **Routes**: ``GET /api/v1.0/config/``; ``/api/v1.0/documents/…`` and ``/api/v1.0/users/me/``
  (Docs' ``SessionAuthentication``: the ``docs_sessionid`` of a browser that signed in — ``login``
  — else anonymous; bearer tokens are ignored, hence 401 on anything not public);
  ``POST /api/v1.0/documents/create-for-owner/`` (server-to-server token only);
  ``/external_api/v1.0/documents/…`` and ``users/me/`` (OIDC resource server). Document routes:
  list/create, retrieve/update/partial_update/destroy, ``children/`` (GET list, POST create with
  a client-chosen ``id``, JSON or multipart ``file``), ``content/`` (v5: GET raw base64 text with
  ETag/Last-Modified/304, PATCH → 204).
* **Content negotiation** (reference §9): Docs has only DRF's JSON renderer, and DRF negotiates
  before authentication, so any DRF route asked with an ``Accept`` that admits neither
  ``application/json`` nor ``*/*`` answers **406** ``{"detail": "Could not satisfy the request
  Accept header."}`` — ``GET …/content/`` included, before any 304.
* **Resource server** (``/external_api/``): the bearer token is introspected over HTTP at the fake
  OIDC provider with Docs' own RS client credentials. As measured on a real Docs 5.4.1 (reference
  §9): an expired, revoked or inactive token, a token whose ``iss`` is not ``OIDC_OP_URL``, a token
  the provider does not know (the S2S token sent here), no/disjoint scope or no audience claim →
  **400 with an HTML body** (Django's SuspiciousOperation page), not 401; unknown ``sub`` → 401
  ``"Login failed: No user found for the given access token."``; then the action must be in
  ``EXTERNAL_API["documents"]["actions"]`` and the token's ``client_id`` in
  ``allowed_audiences``, else 403.
* **Permissions**: users, accesses (reader < commenter < editor < administrator < owner) inherited
  by descendants, link reach/role inherited too, ``abilities`` computed as ``Document.get_abilities``
  (5.x set, or the 4.8 set in legacy mode). A refused object permission answers 401 to anonymous,
  403 otherwise; an unknown document 404; a soft-deleted one 404 to non-owners.
* **Create with an id**: invalid → 400 ``{"id": ["Must be a valid UUID."]}``; UUID version not in
  (1, 3, 4, 5) → ``["The provided ID is not a valid UUID."]`` (5.x; Docs accepts v1/3/5 too, the
  v4 requirement is the collaboration server's); taken → ``["A document with this ID already
  exists. You cannot override it."]``. Children get no access of their own (they inherit).
* **Content** is stored as base64 text exactly as Docs stores it, and must parse as a Yjs update
  (400 ``"invalid yjs document"``). Every change of the bytes is a new version (S3 versioning).
* **Conversions** (the y-provider's job): markdown (``text/markdown``, ``text/x-markdown``,
  ``application/x-www-form-urlencoded``) becomes a minimal valid BlockNote Yjs document built with
  pycrdt (headings, bullet/numbered items, code blocks, paragraphs; inline markup kept as plain
  text); the markdown is also kept on the document (``source_markdown``). ``converter_available
  = False`` makes conversions fail like Docs (400 "Could not convert …").
* **create-for-owner**: the S2S token (401 "Invalid server-to-server token." otherwise), owner access
  for the user found by ``sub`` (then e-mail), else an owner invitation; a notification in
  ``outbox`` unless ``send_notification_email`` is false (present at commit 4111e4e5, the one §9
  was measured on).
  With ``mail_server_available = False`` the document **is created and committed, then the answer
  is 500** (reference §9: the invitation mail fails after the commit).
* **List** (``GET documents/``): the user's accessible documents, highest ancestors only, with
  ``ListDocumentFilter``'s ``title`` (accent- and case-insensitive contains) and ``is_creator_me``,
  and DRF's ``ordering`` on ``created_at``/``updated_at``/``title`` (default ``-updated_at``).
* **Throttle** ``document`` scope (``throttle_rate`` per minute, per user, or per client IP when
  anonymous; 80 in Docs): 429 ``Retry-After``; ``config`` scope likewise (30).
* **Collaboration safeguard** (``collaboration_read_only``): a write without ``websocket: true``
  is refused 403 "You are not allowed to edit this document." when someone holds a writable
  connection to the room and the caller's session is not one of them, or when another session
  wrote without websocket in the last ``no_websocket_timeout`` seconds. Sessions: a
  ``docs_sessionid`` cookie is handed out to every request that has none (ForceSessionMiddleware).

* **Sessions and CSRF** (reference §3.1; DRF ``SessionAuthentication.enforce_csrf`` → Django's
  ``CsrfViewMiddleware``): an unsafe method of a signed-in session needs an ``Origin`` equal to the
  request's own host or in ``trusted_origins``, the ``csrftoken`` cookie and an equal
  ``X-CSRFToken`` header, else 403 ``{"detail": "CSRF Failed: <Django's reason>"}``. ``users/me``
  on ``/api`` answers 401 to an anonymous session (``UserViewSet.get_me``: ``IsAuthenticated``),
  else ``UserSerializer``'s fields (``id``, ``email``, ``full_name``, ``short_name``,
  ``language``, ``is_first_connection``). The AI abilities (``ai_transform``, ``ai_translate``,
  ``ai_proxy``) follow ``AI_ALLOW_REACH_FROM`` (``ai_allow_reach_from``), §2.4.

Not emulated: the OIDC login flow itself (``login`` stands for its end), teams, invitations' acceptance, versions
endpoints, formatted content, the legacy (4.x) formatted ``content/`` GET (404 here).

Use::

    with FakeDocsServer(release="5.4.1") as docs:           # starts its own FakeOIDCProvider,
        alice = docs.add_user("alice-sub", "alice@example.org")   # or pass oidc=provider
        source = docs.add_document("Minutes", owner=alice, content=b64)
        docs.grant(source, bob, "reader"); docs.set_link(source, "authenticated", "reader")
        token = docs.token_for(alice)                       # introspects active, audience suite-ai
        cookies = docs.login(alice)                         # {"docs_sessionid", "csrftoken"}
        docs.url, docs.oidc.issuer
        docs.fail_next(r"/children/$", kind="status_after", status=500)   # see fail_next
        docs.connect(source)                                # someone is in the room
        docs.configure(collaboration_read_only=True, throttle_rate=3)
        docs.documents, docs.children(source), docs.content(note_id), docs.text(note_id)
        docs.requests, docs.requests_to(r"/children/", "POST"), docs.invitations, docs.outbox

Standalone: ``python -m tests.fakes.docs_server --port 8071`` (prints a token for a demo user).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import datetime as dt
import email.parser
import email.policy
import email.utils
import hashlib
import json
import math
import re
import secrets
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pycrdt

from tests.fakes.oidc_server import DROP, Drop, FakeOIDCProvider, HttpRequest, HttpResponse, LoopbackServer

ROLES = ["reader", "commenter", "editor", "administrator", "owner"]
LINK_ROLES = ["reader", "commenter", "editor"]
LINK_REACHES = ["restricted", "authenticated", "public"]
PRIVILEGED = {"administrator", "owner"}
STEP = 7
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

DEFAULT_EXTERNAL_API: dict[str, dict[str, Any]] = {
    "documents": {"enabled": True, "actions": ["list", "retrieve", "create", "children"]},
    "document_access": {"enabled": False, "actions": []},
    "document_invitation": {"enabled": False, "actions": []},
    "users": {"enabled": True, "actions": ["get_me"]},
}
# What suite_ai needs on top of the defaults (documented in docs/lasuite-docs-integration.md).
SUITE_AI_EXTERNAL_API: dict[str, dict[str, Any]] = {
    **copy.deepcopy(DEFAULT_EXTERNAL_API),
    "documents": {
        "enabled": True,
        "actions": ["list", "retrieve", "create", "children", "content_retrieve", "content", "partial_update"],
    },
}

MSG_NOT_AUTHENTICATED = "Authentication credentials were not provided."
MSG_PERMISSION = "You do not have permission to perform this action."
MSG_NOT_FOUND = "No Document matches the given query."
MSG_COLLAB = "You are not allowed to edit this document."
MSG_DUPLICATE_ID = "A document with this ID already exists. You cannot override it."
MSG_NOT_ACCEPTABLE = "Could not satisfy the request Accept header."
MARKDOWN_TYPES = {"text/markdown", "text/x-markdown", "application/x-www-form-urlencoded"}
YJS_TYPES = {"application/vnd.yjs.doc", "application/octet-stream"}
LANGUAGES = [["en-us", "English"], ["fr-fr", "Français"], ["de-de", "Deutsch"], ["nl-nl", "Nederlands"]]


def accepts_json(accept: str) -> bool:
    """DRF's ``DefaultContentNegotiation`` with only ``JSONRenderer``: some media range of the
    ``Accept`` header must match ``application/json`` (``q`` is ignored, as DRF does); no header
    at all accepts anything."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        media_type = media_range.split(";", 1)[0].strip().lower()
        if media_type in {"*/*", "application/*", "application/json"}:
            return True
    return False


def _role_priority(role: str | None) -> int:
    return ROLES.index(role) + 1 if role in ROLES else 0


def _max_role(*roles: str | None) -> str | None:
    return max(roles, key=_role_priority) if roles else None


def _reach_priority(reach: str | None) -> int:
    return LINK_REACHES.index(reach) + 1 if reach in LINK_REACHES else 0


def _link_role_priority(role: str | None) -> int:
    return LINK_ROLES.index(role) + 1 if role in LINK_ROLES else 0


def equivalent_link_definition(links: list[dict[str, str | None]]) -> dict[str, str | None]:
    """``core.choices.get_equivalent_link_definition``."""
    if not links:
        return {"link_reach": None, "link_role": None}
    max_reach = max(links, key=lambda link: _reach_priority(link["link_reach"]))["link_reach"]
    if max_reach == "restricted":
        return {"link_reach": max_reach, "link_role": None}
    max_role = max((link["link_role"] for link in links if link["link_reach"] == max_reach), key=_link_role_priority)
    return {"link_reach": max_reach, "link_role": max_role}


def link_select_options(link_reach: str | None, link_role: str | None) -> dict[str, list[str] | None]:
    """``LinkReachChoices.get_select_options``."""
    return {
        reach: (
            [role for role in LINK_ROLES if _link_role_priority(role) >= _link_role_priority(link_role)]
            if reach != "restricted"
            else None
        )
        for reach in LINK_REACHES
        if _reach_priority(reach) >= _reach_priority(link_reach)
    }


def _fold(text: str) -> str:
    """Postgres' ``unaccent`` + ``icontains``, as Docs' ``AccentInsensitiveCharFilter`` does."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = ALPHABET[rest] + digits
        if not number:
            return digits.rjust(STEP, "0")


# --------------------------------------------------------------------------------------------
# Yjs helpers (what the y-provider and pycrdt do for Docs)
# --------------------------------------------------------------------------------------------

_PROPS = {"backgroundColor": "default", "textColor": "default", "textAlignment": "left"}


def markdown_to_yjs(markdown: str) -> str:
    """A minimal BlockNote document for ``markdown``: base64 of a full Yjs update (a fresh doc,
    as the y-provider's conversion gives)."""
    blocks: list[tuple[str, dict[str, Any], str]] = []
    paragraph: list[str] = []
    code: list[str] | None = None
    language = "text"

    def flush() -> None:
        if paragraph:
            blocks.append(("paragraph", dict(_PROPS), " ".join(paragraph)))
            paragraph.clear()

    for line in markdown.splitlines():
        if code is not None:
            if line.strip().startswith("```"):
                blocks.append(("codeBlock", {"language": language}, "\n".join(code)))
                code = None
            else:
                code.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code, language = [], stripped[3:].strip() or "text"
        elif not stripped:
            flush()
        elif match := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush()
            blocks.append(("heading", {**_PROPS, "level": len(match.group(1)), "isToggleable": False}, match.group(2)))
        elif match := re.match(r"^[-*+]\s+(?:\[( |x)\]\s+)?(.*)$", stripped):
            flush()
            if match.group(1) is not None:
                blocks.append(("checkListItem", {**_PROPS, "checked": match.group(1) == "x"}, match.group(2)))
            else:
                blocks.append(("bulletListItem", dict(_PROPS), match.group(2)))
        elif match := re.match(r"^\d+[.)]\s+(.*)$", stripped):
            flush()
            blocks.append(("numberedListItem", dict(_PROPS), match.group(1)))
        else:
            paragraph.append(stripped)
    flush()
    if code is not None:
        blocks.append(("codeBlock", {"language": language}, "\n".join(code)))

    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    fragment = doc.get("document-store", type=pycrdt.XmlFragment)
    with doc.transaction():
        group = fragment.children.append(pycrdt.XmlElement("blockGroup"))
        for node_name, attributes, text in blocks or [("paragraph", dict(_PROPS), "")]:
            container = group.children.append(pycrdt.XmlElement("blockContainer", {"id": str(uuid.uuid4())}))
            node = container.children.append(pycrdt.XmlElement(node_name, attributes))
            if text:
                node.children.append(pycrdt.XmlText()).insert(0, text)
    return base64.b64encode(doc.get_update()).decode("ascii")


def parse_yjs(content_b64: str) -> pycrdt.Doc[Any]:
    """Like ``core.utils.yjs.base64_yjs_to_xml``: raises ``ValueError`` when it is no Yjs update."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    try:
        doc.apply_update(base64.b64decode(content_b64))
    except Exception as error:
        raise ValueError("invalid yjs document") from error
    return doc


def yjs_blocks_text(content_b64: str | None) -> list[str]:
    """The text of each block of a BlockNote document, in order (for assertions)."""
    if not content_b64:
        return []
    fragment = parse_yjs(content_b64).get("document-store", type=pycrdt.XmlFragment)
    texts: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, pycrdt.XmlElement):
                if child.tag == "blockContainer":
                    content = [c for c in child.children if isinstance(c, pycrdt.XmlElement) and c.tag != "blockGroup"]
                    for block in content:
                        texts.append("".join(str(t) for t in block.children if isinstance(t, pycrdt.XmlText)))
                    for nested in child.children:
                        if isinstance(nested, pycrdt.XmlElement) and nested.tag == "blockGroup":
                            walk(nested)
                else:
                    walk(child)

    walk(fragment)
    return texts


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    sub: str
    email: str
    name: str = ""
    language: str | None = None
    is_active: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class ContentVersion:
    content: str
    etag: str
    last_modified: dt.datetime
    version_id: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class FakeDocument:
    id: str
    title: str | None
    path: str
    creator_id: str | None
    link_reach: str = "restricted"
    link_role: str | None = None
    excerpt: str | None = None
    created_at: dt.datetime = field(default_factory=_now)
    updated_at: dt.datetime = field(default_factory=_now)
    deleted_at: dt.datetime | None = None
    ancestors_deleted_at: dt.datetime | None = None
    versions: list[ContentVersion] = field(default_factory=list)
    source_markdown: str | None = None

    @property
    def depth(self) -> int:
        return len(self.path) // STEP

    @property
    def content(self) -> str | None:
        """The stored base64 text (``None``: no object in storage yet)."""
        return self.versions[-1].content if self.versions else None


@dataclass
class FakeAccess:
    document_id: str
    user_id: str
    role: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Fault:
    pattern: re.Pattern[str]
    method: str | None
    kind: str
    status: int
    delay: float
    headers: list[tuple[str, str]]
    body: Any
    remaining: int


@dataclass
class Connection:
    session_key: str
    writable: bool = True


class _Reply(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _detail(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(HttpResponse.json(status, {"detail": message}, headers))


def _bad_request(errors: Any) -> _Reply:
    return _Reply(HttpResponse.json(400, errors))


def _suspicious() -> _Reply:
    # Django turns SuspiciousOperation into a bare 400 page.
    return _Reply(HttpResponse.html(400, "<h1>Bad Request (400)</h1>"))


@dataclass
class _Call:
    request: HttpRequest
    api: str  # "api" | "external" | "s2s" | "config"
    session_key: str
    user: FakeUser | None = None
    audience: str | None = None
    action: str = ""


class FakeDocsServer(LoopbackServer):
    def __init__(
        self,
        *,
        oidc: FakeOIDCProvider | None = None,
        release: str = "5.4.1",
        expose_release: bool | None = None,
        resource_server_enabled: bool = True,
        rs_client_id: str = "docs",
        rs_client_secret: str = "docs-rs-secret",
        rs_scopes: tuple[str, ...] = ("openid",),
        allowed_audiences: tuple[str, ...] = ("suite-ai",),
        external_api: dict[str, dict[str, Any]] | None = None,
        s2s_tokens: tuple[str, ...] = ("server-api-token",),
        conversion_upload_enabled: bool = False,
        converter_available: bool = True,
        collaboration_read_only: bool = False,
        no_websocket_timeout: float = 120.0,
        throttle_rate: int | None = 80,
        config_throttle_rate: int | None = 30,
        ai_allow_reach_from: str = "authenticated",
        max_file_size: int = 20 * 1024 * 1024,
        mail_server_available: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self._own_oidc = oidc is None
        self.oidc = oidc or FakeOIDCProvider()
        self._lock = threading.RLock()
        self.release = release
        self.expose_release = expose_release
        self.resource_server_enabled = resource_server_enabled
        self.rs_client_id = rs_client_id
        self.rs_client_secret = rs_client_secret
        self.rs_scopes = tuple(rs_scopes)
        self.allowed_audiences = tuple(allowed_audiences)
        self.external_api = copy.deepcopy(external_api if external_api is not None else DEFAULT_EXTERNAL_API)
        self.s2s_tokens = tuple(s2s_tokens)
        self.conversion_upload_enabled = conversion_upload_enabled
        self.converter_available = converter_available
        self.collaboration_read_only = collaboration_read_only
        self.no_websocket_timeout = no_websocket_timeout
        self.throttle_rate = throttle_rate
        self.config_throttle_rate = config_throttle_rate
        self.ai_allow_reach_from = ai_allow_reach_from
        self.max_file_size = max_file_size
        self.mail_server_available = mail_server_available
        self.file_extensions = [".docx", ".md"]
        self.users: dict[str, FakeUser] = {}
        self.documents: dict[str, FakeDocument] = {}
        self.accesses: list[FakeAccess] = []
        self.invitations: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.rooms: dict[str, list[Connection]] = {}
        self._faults: list[Fault] = []
        self._sessions: set[str] = set()
        self._logins: dict[str, str] = {}  # session key → user id: sessions a browser signed in with
        self.trusted_origins: list[str] = []  # CSRF_TRUSTED_ORIGINS; the request's own host is trusted too
        self._no_websocket: dict[str, tuple[str, float]] = {}
        self._throttle: dict[tuple[str, str], deque[float]] = {}
        self._root_count = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._own_oidc:
            self.oidc.start()
        self.oidc.register_client(self.rs_client_id, self.rs_client_secret)
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._own_oidc:
            self.oidc.stop()

    def __enter__(self) -> FakeDocsServer:
        self.start()
        return self

    # -- configuration ----------------------------------------------------------------------

    @property
    def release_tuple(self) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", self.release)[:3])

    @property
    def content_mode(self) -> str:
        """ "v5" (``content/`` endpoint) or "legacy" (content field, Docs <= 4.8)."""
        return "v5" if self.release_tuple >= (5,) else "legacy"

    def configure(self, **settings: Any) -> None:
        with self._lock:
            for key, value in settings.items():
                if not hasattr(self, key) or key.startswith("_"):
                    raise AttributeError(f"FakeDocsServer has no setting {key!r}")
                setattr(self, key, value)

    def enable_external_actions(self, *actions: str) -> None:
        with self._lock:
            current = self.external_api.setdefault("documents", {"enabled": True, "actions": []})
            current["actions"] = list(dict.fromkeys([*current.get("actions", []), *actions]))

    # -- setup ------------------------------------------------------------------------------

    def add_user(self, sub: str, email: str | None = None, name: str = "", *, language: str | None = None) -> FakeUser:
        user = FakeUser(sub=sub, email=email or f"{sub}@example.org", name=name, language=language)
        with self._lock:
            self.users[user.id] = user
        return user

    def login(self, user: FakeUser) -> dict[str, str]:
        """A browser session signed in as ``user`` (the OIDC login flow's end): the cookies a
        browser then holds, ``docs_sessionid`` and ``csrftoken`` (Django's 32-character secret)."""
        session_key = secrets.token_hex(16)
        with self._lock:
            self._sessions.add(session_key)
            self._logins[session_key] = user.id
        return {"docs_sessionid": session_key, "csrftoken": secrets.token_hex(16)}

    def logout(self, session_key: str) -> None:
        with self._lock:
            self._logins.pop(session_key, None)

    def token_for(self, user: FakeUser, *, client_id: str = "suite-ai", **kwargs: Any) -> str:
        """An access token for ``user`` from the fake provider (issued to ``client_id``)."""
        return self.oidc.issue_token(sub=user.sub, email=user.email, name=user.name, client_id=client_id, **kwargs)

    def add_document(
        self,
        title: str | None = "Untitled",
        *,
        owner: FakeUser | None = None,
        parent: FakeDocument | str | None = None,
        link_reach: str = "restricted",
        link_role: str | None = None,
        content: str | None = None,
        markdown: str | None = None,
        id: str | None = None,
    ) -> FakeDocument:
        """A document created directly in the state (no request). A root gets ``owner`` as owner;
        a child gets no access of its own, like Docs' ``children`` create."""
        with self._lock:
            parent_doc = self._resolve(parent) if parent is not None else None
            document = FakeDocument(
                id=id or str(uuid.uuid4()),
                title=title,
                path=self._next_path(parent_doc),
                creator_id=owner.id if owner else None,
                link_reach=link_reach,
                link_role=link_role,
            )
            self.documents[document.id] = document
            if owner is not None and parent_doc is None:
                self.accesses.append(FakeAccess(document.id, owner.id, "owner"))
            if markdown is not None:
                document.source_markdown = markdown
                content = markdown_to_yjs(markdown)
            if content is not None:
                self._store_content(document, content)
            return document

    def grant(self, document: FakeDocument | str, user: FakeUser, role: str) -> None:
        assert role in ROLES, role
        with self._lock:
            doc = self._resolve(document)
            for access in self.accesses:
                if access.document_id == doc.id and access.user_id == user.id:
                    access.role = role
                    return
            self.accesses.append(FakeAccess(doc.id, user.id, role))

    def set_link(self, document: FakeDocument | str, reach: str, role: str | None = None) -> None:
        assert reach in LINK_REACHES and (role is None or role in LINK_ROLES)
        with self._lock:
            doc = self._resolve(document)
            doc.link_reach, doc.link_role = reach, (None if reach == "restricted" else role or "reader")

    def soft_delete(self, document: FakeDocument | str) -> None:
        with self._lock:
            doc = self._resolve(document)
            now = _now()
            doc.deleted_at = now
            for other in self.documents.values():
                if other.path.startswith(doc.path) and other.ancestors_deleted_at is None:
                    other.ancestors_deleted_at = now

    def connect(self, document: FakeDocument | str, session_key: str | None = None, *, writable: bool = True) -> str:
        """Someone joins the document's collaboration room (as the y-provider would count them)."""
        key = session_key or secrets.token_hex(16)
        with self._lock:
            self.rooms.setdefault(self._resolve(document).id, []).append(Connection(key, writable))
        return key

    def disconnect(self, document: FakeDocument | str) -> None:
        with self._lock:
            self.rooms.pop(self._resolve(document).id, None)

    def fail_next(
        self,
        path: str,
        *,
        kind: str = "status",
        status: int = 500,
        times: int = 1,
        method: str | None = None,
        delay: float = 30.0,
        headers: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> None:
        """Script the next ``times`` requests whose path matches the regex ``path`` (and ``method``):

        ``status``       answer ``status`` (with ``headers``/``body``) without processing
        ``status_after`` process the request, then answer ``status`` instead of the real answer
        ``drop``         close the connection without processing or answering
        ``drop_after``   process the request (e.g. a 201), then close without answering
        ``hang``         hold the request ``delay`` seconds, then close without processing
        ``slow``         hold the request ``delay`` seconds, then process and answer normally
        """
        assert kind in {"status", "status_after", "drop", "drop_after", "hang", "slow"}, kind
        with self._lock:
            self._faults.append(Fault(re.compile(path), method, kind, status, delay, list(headers or []), body, times))

    # -- inspection -------------------------------------------------------------------------

    def document(self, document_id: str) -> FakeDocument:
        with self._lock:
            return self.documents[str(document_id)]

    def parent(self, document: FakeDocument | str) -> FakeDocument | None:
        with self._lock:
            doc = self._resolve(document)
            if doc.depth <= 1:
                return None
            return next(d for d in self.documents.values() if d.path == doc.path[:-STEP])

    def children(self, document: FakeDocument | str) -> list[FakeDocument]:
        with self._lock:
            doc = self._resolve(document)
            found = [
                d
                for d in self.documents.values()
                if d.path.startswith(doc.path) and len(d.path) == len(doc.path) + STEP
            ]
            return sorted(found, key=lambda d: d.path)

    def content(self, document: FakeDocument | str) -> str | None:
        with self._lock:
            return self._resolve(document).content

    def text(self, document: FakeDocument | str) -> list[str]:
        return yjs_blocks_text(self.content(document))

    def role_of(self, document: FakeDocument | str, user: FakeUser | None) -> str | None:
        with self._lock:
            return self._role(self._resolve(document), user)

    def abilities_of(self, document: FakeDocument | str, user: FakeUser | None) -> dict[str, Any]:
        with self._lock:
            return self._abilities(self._resolve(document), user)

    def requests_to(self, path: str, method: str | None = None) -> list[dict[str, Any]]:
        pattern = re.compile(path)
        with self._lock:
            return [r for r in self.requests if pattern.search(r["path"]) and (method is None or r["method"] == method)]

    # -- internals: tree, permissions -------------------------------------------------------

    def _resolve(self, document: FakeDocument | str) -> FakeDocument:
        return self.documents[document.id if isinstance(document, FakeDocument) else str(document)]

    def _next_path(self, parent: FakeDocument | None) -> str:
        if parent is None:
            self._root_count += 1
            return _base36(self._root_count)
        siblings = [
            d.path for d in self.documents.values() if d.path.startswith(parent.path) and d.depth == parent.depth + 1
        ]
        last = max((int(p[-STEP:], 36) for p in siblings), default=0)
        return parent.path + _base36(last + 1)

    def _ancestors(self, document: FakeDocument) -> list[FakeDocument]:
        paths = [document.path[: i * STEP] for i in range(1, document.depth)]
        by_path = {d.path: d for d in self.documents.values()}
        return [by_path[p] for p in paths if p in by_path]

    def _role(self, document: FakeDocument, user: FakeUser | None) -> str | None:
        if user is None:
            return None
        chain = {d.id for d in [*self._ancestors(document), document]}
        roles = [a.role for a in self.accesses if a.user_id == user.id and a.document_id in chain]
        return _max_role(*roles) if roles else None

    def _ancestors_link_definition(self, document: FakeDocument) -> dict[str, str | None]:
        links = [
            {"link_reach": d.link_reach, "link_role": d.link_role}
            for d in self._ancestors(document)
            if d.ancestors_deleted_at is None
        ]
        return equivalent_link_definition(links)

    def _abilities(self, document: FakeDocument, user: FakeUser | None) -> dict[str, Any]:
        """``Document.get_abilities`` (5.x; the 4.8 set in legacy mode)."""
        authenticated = user is not None
        role = self._role(document, user)
        is_owner = role == "owner"
        is_deleted = document.ancestors_deleted_at is not None
        is_owner_or_admin = (is_owner or role == "administrator") and not is_deleted
        has_access_role = bool(role) and not is_deleted
        can_update_from_access = (is_owner_or_admin or role == "editor") and not is_deleted
        has_trace = False
        can_leave = (
            authenticated
            and not is_deleted
            and ((has_access_role and not is_owner_or_admin) or (not has_access_role and has_trace))
        )
        ancestors = self._ancestors_link_definition(document)
        link = equivalent_link_definition(
            [ancestors, {"link_reach": document.link_reach, "link_role": document.link_role}]
        )
        if link["link_reach"] == "public" or (link["link_reach"] == "authenticated" and authenticated):
            role = _max_role(role, link["link_role"])
        can_get = bool(role) and not is_deleted
        retrieve = can_get or is_owner
        can_update = (is_owner_or_admin or role == "editor") and not is_deleted
        can_comment = (can_update or role == "commenter") and not is_deleted
        can_create_children = can_update and authenticated
        is_root = document.depth == 1
        can_destroy = (
            is_owner
            if is_root
            else (is_owner_or_admin or (authenticated and user is not None and document.creator_id == user.id))
        ) and not is_deleted
        reach_from = self.ai_allow_reach_from
        ai_access = (
            (reach_from == "public" and can_update)
            or (reach_from == "authenticated" and authenticated and can_update)
            or (reach_from == "restricted" and can_update_from_access)
        )
        abilities: dict[str, Any] = {
            "accesses_manage": is_owner_or_admin,
            "accesses_view": has_access_role,
            "ai_proxy": ai_access,
            "ai_transform": ai_access,
            "ai_translate": ai_access,
            "attachment_upload": can_update,
            "media_check": can_get,
            "can_edit": can_update,
            "children_list": can_get,
            "children_create": can_create_children,
            "collaboration_auth": can_get,
            "comment": can_comment,
            "formatted_content": can_get,
            "content_patch": can_update,
            "content_retrieve": retrieve,
            "cors_proxy": can_get,
            "descendants": can_get,
            "destroy": can_destroy,
            "duplicate": can_get and authenticated,
            "favorite": can_get and authenticated,
            "link_configuration": is_owner_or_admin,
            "invite_owner": is_owner and not is_deleted,
            "leave": can_leave,
            "move": is_owner_or_admin and not is_deleted,
            "partial_update": can_update,
            "restore": is_owner and bool(document.deleted_at),
            "retrieve": retrieve,
            "media_auth": can_get,
            "link_select_options": link_select_options(ancestors["link_reach"], ancestors["link_role"]),
            "tree": retrieve,
            "update": can_update,
            "versions_destroy": is_owner_or_admin,
            "versions_list": has_access_role,
            "versions_retrieve": has_access_role,
            "search": can_get,
        }
        if self.content_mode == "legacy":
            for key in ("formatted_content", "content_patch", "content_retrieve", "leave"):
                abilities.pop(key)
            abilities["content"] = can_get
            abilities["mask"] = can_get and authenticated
            abilities["restore"] = is_owner
        return abilities

    def _serialize(self, document: FakeDocument, user: FakeUser | None, *, with_content: bool = True) -> dict[str, Any]:
        ancestors = self._ancestors_link_definition(document)
        computed = equivalent_link_definition(
            [ancestors, {"link_reach": document.link_reach, "link_role": document.link_role}]
        )
        chain = [*self._ancestors(document), document]
        data: dict[str, Any] = {
            "id": document.id,
            "abilities": self._abilities(document, user),
            "ancestors_link_reach": ancestors["link_reach"],
            "ancestors_link_role": ancestors["link_role"],
            "computed_link_reach": computed["link_reach"],
            "computed_link_role": computed["link_role"],
            "created_at": _iso(document.created_at),
            "creator": document.creator_id,
            "deleted_at": _iso(document.ancestors_deleted_at),
            "depth": document.depth,
            "excerpt": document.excerpt,
            "is_favorite": False,
            "link_role": document.link_role,
            "link_reach": document.link_reach,
            "nb_accesses_ancestors": sum(1 for a in self.accesses if a.document_id in {d.id for d in chain}),
            "nb_accesses_direct": sum(1 for a in self.accesses if a.document_id == document.id),
            "numchild": len(self.children(document)),
            "path": document.path,
            "title": document.title,
            "updated_at": _iso(document.updated_at),
            "user_role": self._role(document, user),
        }
        if self.content_mode == "legacy" and with_content:
            data["content"] = document.content
        return data

    def _store_content(self, document: FakeDocument, content: str) -> bool:
        """``Document.save_content``: a new S3 version only when the bytes change."""
        etag = '"' + hashlib.md5(content.encode(), usedforsecurity=False).hexdigest() + '"'
        if document.versions and document.versions[-1].etag == etag:
            return False
        document.versions.append(ContentVersion(content=content, etag=etag, last_modified=_now()))
        document.updated_at = _now()
        return True

    # -- HTTP entry point -------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse | Drop:
        fault = self._take_fault(request)
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": {k: v[-1] for k, v in request.query.items()},
            "auth": "bearer" if request.header("Authorization").startswith("Bearer ") else "none",
            "session": request.cookies().get("docs_sessionid"),
            "at": time.time(),
            "fault": fault.kind if fault else None,
            "content_type": request.header("Content-Type"),
            "json": None,
            "status": None,
        }
        if "json" in request.header("Content-Type"):
            with contextlib.suppress(ValueError):
                entry["json"] = request.json()
        with self._lock:
            self.requests.append(entry)
        if fault is not None:
            if fault.kind == "status":
                entry["status"] = fault.status
                return self._fault_response(fault)
            if fault.kind == "drop":
                return DROP
            if fault.kind == "hang":
                self.stopping.wait(fault.delay)
                return DROP
            if fault.kind == "slow":
                self.stopping.wait(fault.delay)
        response = self._process(request)
        entry["status"] = response.status
        if fault is not None and fault.kind == "status_after":
            entry["status"] = fault.status
            return self._fault_response(fault)
        if fault is not None and fault.kind == "drop_after":
            return DROP
        return response

    def _take_fault(self, request: HttpRequest) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(request.path) and (fault.method in (None, request.method)):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> HttpResponse:
        if fault.body is not None:
            return HttpResponse.json(fault.status, fault.body, fault.headers)
        if fault.status >= 500:
            response = HttpResponse.html(fault.status, f"<h1>Server Error ({fault.status})</h1>")
            response.headers.extend(fault.headers)
            return response
        return HttpResponse.json(fault.status, {"detail": "Injected fault."}, fault.headers)

    def _process(self, request: HttpRequest) -> HttpResponse:
        # ForceSessionMiddleware: every anonymous request without a session gets one.
        cookies = request.cookies()
        with self._lock:
            session_key = cookies.get("docs_sessionid", "")
            new_session = session_key not in self._sessions
            if new_session:
                session_key = secrets.token_hex(16)
                self._sessions.add(session_key)
        try:
            response = self._route(request, session_key)
        except _Reply as reply:
            response = reply.response
        if new_session:
            response.headers.append(
                ("Set-Cookie", f"docs_sessionid={session_key}; HttpOnly; Max-Age=43200; Path=/; SameSite=Lax")
            )
        return response

    def _route(self, request: HttpRequest, session_key: str) -> HttpResponse:
        path = request.path
        if self._is_drf_route(path) and not accepts_json(request.header("Accept")):
            # APIView.initial() negotiates before authentication, permissions and throttles.
            raise _detail(406, MSG_NOT_ACCEPTABLE)
        if path == "/api/v1.0/config/":
            call = _Call(request, "config", session_key)
            if request.method != "GET":
                raise _detail(405, f'Method "{request.method}" not allowed.')
            self._check_throttle(call, "config", self.config_throttle_rate)
            return self._config()
        if path == "/api/v1.0/documents/create-for-owner/" or (
            self.resource_server_enabled and path == "/external_api/v1.0/documents/create-for-owner/"
        ):  # the action sets its own authentication, on both routers
            return self._create_for_owner(_Call(request, "s2s", session_key))
        for prefix, api in (("/api/v1.0/", "api"), ("/external_api/v1.0/", "external")):
            if not path.startswith(prefix):
                continue
            if api == "external" and not self.resource_server_enabled:
                break
            rest = path[len(prefix) :]
            call = _Call(request, api, session_key)
            if rest == "users/me/":
                return self._users_me(call)
            match = re.fullmatch(r"documents/(?:(?P<pk>[^/.]+)/(?:(?P<sub>children|content)/)?)?", rest)
            if match:
                return self._documents(call, match.group("pk"), match.group("sub"))
            break
        return HttpResponse.html(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>")

    def _is_drf_route(self, path: str) -> bool:
        if path == "/api/v1.0/config/" or path.startswith("/api/v1.0/documents/"):
            return True
        if path == "/api/v1.0/users/me/":
            return True
        return self.resource_server_enabled and path.startswith("/external_api/v1.0/")

    # -- authentication, permission, throttle -----------------------------------------------

    def _authenticate(self, call: _Call) -> None:
        """``/api``: the session's user (``core.authentication.backends.SessionAuthentication``,
        DRF's, bearer tokens ignored), with DRF's ``enforce_csrf`` on unsafe methods of a signed-in
        session (reference §3.1). ``/external_api``: django-lasuite's ``ResourceServerAuthentication``."""
        if call.api == "api":
            with self._lock:
                user_id = self._logins.get(call.session_key)
                user = self.users.get(user_id) if user_id else None
            if user is None or not user.is_active:
                return
            call.user = user
            if call.request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                reason = self._csrf_failure(call.request)
                if reason:
                    raise _detail(403, f"CSRF Failed: {reason}")
            return
        if call.api != "external":
            return
        header = call.request.header("Authorization")
        if not header.startswith("Bearer "):
            return
        token = header[len("Bearer ") :].strip()
        with contextlib.suppress(binascii.Error, ValueError):  # service providers may base64-wrap it
            token = base64.b64decode(token, validate=True).decode("utf-8")
        form = urllib.parse.urlencode(
            {"client_id": self.rs_client_id, "client_secret": self.rs_client_secret, "token": token}
        ).encode()
        introspection = urllib.request.Request(
            self.oidc.introspection_endpoint,
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(introspection, timeout=3) as answer:
                info = json.loads(answer.read())
        except urllib.error.HTTPError:
            raise _suspicious() from None  # "Could not fetch introspection"
        except (urllib.error.URLError, OSError):
            raise _Reply(HttpResponse.html(500, "<h1>Server Error (500)</h1>")) from None
        except ValueError:
            raise _suspicious() from None
        if not isinstance(info, dict) or "active" not in info:
            raise _suspicious()
        if info.get("iss") is not None and info["iss"] != self.oidc.issuer:
            raise _suspicious()
        if not info["active"]:
            # Reference §9: expired, revoked or unknown tokens get Django's 400 page, not a 401.
            raise _suspicious()
        scope = info.get("scope")
        if scope is None or set(self.rs_scopes).isdisjoint(scope.split(" ")):
            raise _suspicious()
        if not info.get("client_id"):
            raise _suspicious()
        with self._lock:
            user = next((u for u in self.users.values() if u.sub == info.get("sub")), None)
        if info.get("sub") is None:
            raise _detail(401, "Login failed")
        if user is None:
            raise _detail(401, "Login failed: No user found for the given access token.")
        if not user.is_active:
            raise _detail(401, "User inactive or deleted.")
        call.user = user
        call.audience = str(info["client_id"])

    def _csrf_failure(self, request: HttpRequest) -> str | None:
        """Django's ``CsrfViewMiddleware.process_view`` reasons, in its order: the origin (the
        ``Origin`` header, else — on HTTPS only — the ``Referer``), then the ``csrftoken`` cookie
        and the ``X-CSRFToken`` header, compared unmasked (the frontend sends the cookie as is)."""
        origin = request.header("Origin")
        host = request.header("Host")
        if origin and origin not in [f"http://{host}", *self.trusted_origins]:
            return f"Origin checking failed - {origin} does not match any trusted origins."
        cookie = request.cookies().get("csrftoken", "")
        if not cookie:
            return "CSRF cookie not set."
        sent = request.header("X-CSRFToken")
        if not sent:
            return "CSRF token missing."
        if len(sent) not in (32, 64) or not sent.isalnum():
            return "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
        if sent != cookie:
            return "CSRF token from the 'X-Csrftoken' HTTP header incorrect."
        return None

    def _deny(self, call: _Call) -> _Reply:
        if call.user is None:
            return _detail(401, MSG_NOT_AUTHENTICATED, [("WWW-Authenticate", 'Bearer realm="api"')])
        return _detail(403, MSG_PERMISSION)

    def _check_permission(self, call: _Call, resource: str) -> None:
        if call.api == "external":
            config = self.external_api.get(resource, {})
            if (
                call.user is None
                or call.action not in config.get("actions", [])
                or call.audience not in self.allowed_audiences
            ):
                raise self._deny(call)
        if call.action == "create" and call.user is None:
            raise self._deny(call)

    def _check_throttle(self, call: _Call, scope: str, rate: int | None) -> None:
        if not rate:
            return
        ident = call.user.id if call.user else call.request.client
        now = time.monotonic()
        with self._lock:
            history = self._throttle.setdefault((scope, ident), deque())
            while history and history[-1] <= now - 60:
                history.pop()
            if len(history) >= rate:
                remaining = 60 - (now - history[-1])
                wait = math.ceil(remaining / (rate - len(history) + 1))
                unit = "second" if wait == 1 else "seconds"
                raise _detail(
                    429,
                    f"Request was throttled. Expected available in {wait} {unit}.",
                    [("Retry-After", str(wait))],
                )
            history.appendleft(now)

    def _get_object(self, call: _Call, pk: str, ability: str) -> FakeDocument:
        try:
            key = str(uuid.UUID(pk))
        except ValueError:
            raise _detail(404, MSG_NOT_FOUND) from None
        with self._lock:
            document = self.documents.get(key)
        if document is None:
            raise _detail(404, MSG_NOT_FOUND)
        if document.ancestors_deleted_at is not None and self._role(document, call.user) != "owner":
            raise _detail(404, MSG_NOT_FOUND)
        if not self._abilities(document, call.user).get(ability, False):
            raise self._deny(call)
        return document

    # -- views ------------------------------------------------------------------------------

    def _config(self) -> HttpResponse:
        data: dict[str, Any] = {
            "AI_BOT": {"name": "Docs AI", "color": "#8bc6ff"},
            "AI_FEATURE_ENABLED": False,
            "AI_FEATURE_BLOCKNOTE_ENABLED": False,
            "AI_FEATURE_LEGACY_ENABLED": True,
            "API_USERS_SEARCH_QUERY_MIN_LENGTH": 3,
            "COLLABORATION_WS_URL": "ws://localhost:4444/collaboration/ws/",
            "COLLABORATION_WS_NOT_CONNECTED_READ_ONLY": self.collaboration_read_only,
            "COLLABORATION_WS_INACTIVITY_TIMEOUT": 60,
            "CONVERSION_FILE_EXTENSIONS_ALLOWED": list(self.file_extensions),
            "CONVERSION_FILE_MAX_SIZE": self.max_file_size,
            "CONVERSION_UPLOAD_ENABLED": self.conversion_upload_enabled,
            "ENVIRONMENT": "test",
            "FRONTEND_CSS_URL": None,
            "FRONTEND_HOMEPAGE_FEATURE_ENABLED": True,
            "FRONTEND_JS_URL": None,
            "FRONTEND_SILENT_LOGIN_ENABLED": False,
            "FRONTEND_THEME": "default",
            "MEDIA_BASE_URL": None,
            "POSTHOG_KEY": None,
            "POSTHOG_HOST": None,
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_CODE": "en-us",
            "SENTRY_DSN": None,
            "TRASHBIN_CUTOFF_DAYS": 30,
            "theme_customization": {},
        }
        expose = self.expose_release if self.expose_release is not None else self.release_tuple >= (5, 1)
        if expose:  # RELEASE_VERSION arrived in 5.1.0
            data["RELEASE_VERSION"] = self.release
        return HttpResponse.json(200, data)

    def _users_me(self, call: _Call) -> HttpResponse:
        call.action = "get_me"
        self._authenticate(call)
        if call.api != "external" and call.user is None:
            raise _detail(401, MSG_NOT_AUTHENTICATED)  # UserViewSet.get_me: IsAuthenticated
        self._check_permission(call, "users")
        assert call.user is not None
        user = call.user
        return HttpResponse.json(
            200,
            {
                "id": user.id,
                "email": user.email,
                "full_name": user.name,
                "short_name": user.name.split(" ")[0],
                "language": user.language,
                "is_first_connection": False,
            },
        )

    def _documents(self, call: _Call, pk: str | None, sub: str | None) -> HttpResponse:
        method = call.request.method
        if pk is None:
            actions = {"GET": "list", "POST": "create"}
        elif sub is None:
            actions = {"GET": "retrieve", "PUT": "update", "PATCH": "partial_update", "DELETE": "destroy"}
        elif sub == "children":
            actions = {"GET": "children", "POST": "children"}
        elif self.content_mode == "v5":
            actions = {"GET": "content_retrieve", "PATCH": "content"}
        else:
            return HttpResponse.html(404, "<h1>Not Found</h1>")
        call.action = actions.get(method, "")
        self._authenticate(call)
        if not call.action:
            raise _detail(405, f'Method "{method}" not allowed.')
        self._check_permission(call, "documents")
        self._check_throttle(call, "document", self.throttle_rate)
        if call.action == "list":
            return self._list(call)
        if call.action == "create":
            return self._create(call, parent=None)
        assert pk is not None
        if call.action == "retrieve":
            document = self._get_object(call, pk, "retrieve")
            return HttpResponse.json(
                200, self._serialize(document, call.user, with_content=not self._without_content(call))
            )
        if call.action in ("update", "partial_update"):
            return self._update(call, self._get_object(call, pk, call.action))
        if call.action == "destroy":
            document = self._get_object(call, pk, "destroy")
            self.soft_delete(document)
            return HttpResponse(204, content_type=None)
        if call.action == "children":
            ability = "children_create" if method == "POST" else "children_list"
            parent = self._get_object(call, pk, ability)
            if method == "POST":
                return self._create(call, parent=parent)
            return self._children_list(call, parent)
        if call.action == "content_retrieve":
            return self._content_retrieve(call, self._get_object(call, pk, "content_retrieve"))
        return self._content_patch(call, self._get_object(call, pk, "content_patch"))

    @staticmethod
    def _without_content(call: _Call) -> bool:
        return (call.request.query_value("without_content") or "").lower() in {"true", "1", "yes", "on"}

    def _paginate(self, call: _Call, items: list[dict[str, Any]]) -> HttpResponse:
        try:
            page = max(1, int(call.request.query_value("page") or 1))
            size = min(200, max(1, int(call.request.query_value("page_size") or 20)))
        except ValueError:
            raise _detail(404, "Invalid page.") from None
        start = (page - 1) * size
        if start and start >= len(items):
            raise _detail(404, "Invalid page.")
        base = urllib.parse.urlsplit(call.request.path)
        more = start + size < len(items)
        return HttpResponse.json(
            200,
            {
                "count": len(items),
                "next": f"{self.url}{base.path}?page={page + 1}&page_size={size}" if more else None,
                "previous": f"{self.url}{base.path}?page={page - 1}&page_size={size}" if page > 1 else None,
                "results": items[start : start + size],
            },
        )

    def _list(self, call: _Call) -> HttpResponse:
        """``DocumentViewSet.list``: filters on the model first (``is_creator_me``, ``title``), then
        the highest ancestors only, then DRF's ``OrderingFilter``."""
        user = call.user
        assert user is not None or call.api == "api"
        title = _fold(call.request.query_value("title") or call.request.query_value("q") or "")
        creator_me = (call.request.query_value("is_creator_me") or "").lower()
        ordering = call.request.query_value("ordering") or "-updated_at"
        field = ordering.lstrip("-")
        if field not in ("created_at", "updated_at", "title"):
            ordering, field = "-updated_at", "updated_at"
        with self._lock:
            accessible = {a.document_id for a in self.accesses if user is not None and a.user_id == user.id}
            docs = [d for d in self.documents.values() if d.id in accessible and d.ancestors_deleted_at is None]
            if title:
                docs = [d for d in docs if title in _fold(d.title or "")]
            if user is not None and creator_me in ("true", "1"):
                docs = [d for d in docs if d.creator_id == user.id]
            elif user is not None and creator_me in ("false", "0"):
                docs = [d for d in docs if d.creator_id != user.id]
            roots: list[FakeDocument] = []
            for document in sorted(docs, key=lambda d: d.path):
                if not any(document.path.startswith(r.path) for r in roots):
                    roots.append(document)
            roots.sort(key=lambda d: getattr(d, field) or "", reverse=ordering.startswith("-"))
            items = [self._serialize(d, user, with_content=False) for d in roots]
        return self._paginate(call, items)

    def _children_list(self, call: _Call, parent: FakeDocument) -> HttpResponse:
        with self._lock:
            items = [
                self._serialize(d, call.user, with_content=False)
                for d in self.children(parent)
                if d.ancestors_deleted_at is None
            ]
        return self._paginate(call, items)

    def _request_data(self, call: _Call) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
        """JSON or multipart body → (fields, files)."""
        content_type = call.request.header("Content-Type")
        if content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + call.request.body
            )
            fields: dict[str, Any] = {}
            files: dict[str, tuple[str, bytes, str]] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                raw = part.get_payload(decode=True)
                payload = raw if isinstance(raw, bytes) else b""
                filename = part.get_filename()
                if not isinstance(name, str):
                    continue
                if filename is not None:
                    files[name] = (filename, payload, part.get_content_type())
                else:
                    fields[name] = payload.decode("utf-8")
            return fields, files
        if not call.request.body:
            return {}, {}
        if "json" not in content_type:
            raise _detail(415, f'Unsupported media type "{content_type}" in request.')
        try:
            data = call.request.json()
        except ValueError as error:
            raise _detail(400, f"JSON parse error - {error}") from None
        if not isinstance(data, dict):
            raise _bad_request({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        return data, {}

    def _convert(self, data: bytes, content_type: str) -> str:
        """The y-provider's ``/api/convert/`` for an upload; raises ValueError on failure."""
        if not self.converter_available:
            raise ValueError("converter unavailable")
        if content_type in MARKDOWN_TYPES:
            return markdown_to_yjs(data.decode("utf-8"))
        if content_type in YJS_TYPES:
            content = base64.b64encode(data).decode("ascii")
            parse_yjs(content)
            return content
        raise ValueError(f"unsupported content type {content_type}")

    def _create(self, call: _Call, parent: FakeDocument | None) -> HttpResponse:
        fields, files = self._request_data(call)
        errors: dict[str, list[str]] = {}
        document_id: str | None = None
        if fields.get("id") not in (None, ""):
            try:
                value = uuid.UUID(str(fields["id"]))
            except ValueError:
                errors["id"] = ["Must be a valid UUID."]
            else:
                if self.content_mode == "v5" and value.version not in (1, 3, 4, 5):
                    errors["id"] = ["The provided ID is not a valid UUID."]
                elif str(value) in self.documents:
                    errors["id"] = [MSG_DUPLICATE_ID]
                else:
                    document_id = str(value)
        title = fields.get("title")
        if title is not None and len(str(title)) > 255:
            errors["title"] = ["Ensure this field has no more than 255 characters."]
        content: str | None = None
        if self.content_mode == "legacy" and fields.get("content"):
            try:
                base64.b64decode(str(fields["content"]), validate=True)
                content = str(fields["content"])
            except (binascii.Error, ValueError):
                errors["content"] = ["Invalid base64 content."]
        upload = files.get("file")
        if upload is not None:
            filename, data, _ = upload
            extension = ("." + filename.rsplit(".", 1)[1]) if "." in filename else ""
            if len(data) > self.max_file_size:
                errors["file"] = [f"File size exceeds the maximum limit of {self.max_file_size // (1024 * 1024):d} MB."]
            elif extension.lower() not in self.file_extensions:
                errors["file"] = [
                    f"File extension {extension} is not allowed. Allowed extensions are: {self.file_extensions}."
                ]
        if errors:
            raise _bad_request(errors)
        if upload is not None:
            if not self.conversion_upload_enabled:
                raise _bad_request({"file": ["file upload is not allowed"]})
            filename, data, part_type = upload
            try:
                content = self._convert(data, part_type)
            except (ValueError, UnicodeDecodeError):
                raise _bad_request({"file": ["Could not convert file content"]}) from None
            title = filename
        with self._lock:
            if document_id is not None and document_id in self.documents:  # lost a race
                raise _bad_request({"id": [MSG_DUPLICATE_ID]})
            document = self.add_document(
                title=title,
                parent=parent,
                owner=call.user if parent is None else None,
                id=document_id,
            )
            document.creator_id = call.user.id if call.user else None
            if upload is not None and upload[2] in MARKDOWN_TYPES:
                document.source_markdown = upload[1].decode("utf-8")
            if content:
                self._store_content(document, content)
            body = self._serialize(document, call.user)
        return HttpResponse.json(201, body)

    def _can_edit_without_websocket(self, call: _Call, document: FakeDocument) -> bool:
        """``DocumentViewSet._can_user_edit_document(set_cache=True)``."""
        with self._lock:
            connections = self.rooms.get(document.id, [])
            count = sum(1 for c in connections if c.writable)
            exists = any(c.session_key == call.session_key for c in connections)
            if count == 0:
                now = time.monotonic()
                holder = self._no_websocket.get(document.id)
                current = holder[0] if holder and holder[1] > now else None
                if not current:
                    self._no_websocket[document.id] = (call.session_key, now + self.no_websocket_timeout)
                    return True
                if current != call.session_key:
                    return False
                self._no_websocket[document.id] = (current, now + self.no_websocket_timeout)
                return True
            return exists

    def _collaboration_check(self, call: _Call, document: FakeDocument, websocket: Any) -> None:
        if websocket is True or websocket in ("true", "True"):
            return
        if self.collaboration_read_only and not self._can_edit_without_websocket(call, document):
            raise _detail(403, MSG_COLLAB)

    def _update(self, call: _Call, document: FakeDocument) -> HttpResponse:
        fields, _ = self._request_data(call)
        errors: dict[str, list[str]] = {}
        content = fields.get("content")
        if self.content_mode == "legacy" and content:
            try:
                base64.b64decode(str(content), validate=True)
            except (binascii.Error, ValueError):
                errors["content"] = ["Invalid base64 content."]
        if errors:
            raise _bad_request(errors)
        self._collaboration_check(call, document, fields.get("websocket", False))
        with self._lock:
            if "title" in fields:
                document.title = fields["title"]
            if "excerpt" in fields:
                document.excerpt = fields["excerpt"]
            if self.content_mode == "legacy" and content:
                self._store_content(document, str(content))
            document.updated_at = _now()
            body = self._serialize(document, call.user)
        return HttpResponse.json(200, body)

    def _content_retrieve(self, call: _Call, document: FakeDocument) -> HttpResponse:
        with self._lock:
            version = document.versions[-1] if document.versions else None
        if version is None:
            return HttpResponse(200, b"", "text/plain")
        if_none_match = call.request.header("If-None-Match")
        if if_none_match and if_none_match == version.etag:
            return HttpResponse(304, content_type=None)
        if_modified_since = call.request.header("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                since = None
            if since is not None:
                since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
                if version.last_modified.replace(microsecond=0) <= since:
                    return HttpResponse(304, content_type=None)
        return HttpResponse(
            200,
            version.content.encode("utf-8"),
            "text/plain",
            [
                ("ETag", version.etag),
                ("Last-Modified", version.last_modified.strftime("%a, %d %b %Y %H:%M:%S UTC")),
                ("Cache-Control", "private, no-cache"),
            ],
        )

    def _content_patch(self, call: _Call, document: FakeDocument) -> HttpResponse:
        fields, _ = self._request_data(call)
        content = fields.get("content")
        if content is None:
            raise _bad_request({"content": ["This field is required."]})
        if not isinstance(content, str):
            raise _bad_request({"content": ["Not a valid string."]})
        if not content.strip():
            raise _bad_request({"content": ["This field may not be blank."]})
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise _bad_request({"content": ["Invalid base64 content."]}) from None
        self._collaboration_check(call, document, fields.get("websocket", False))
        try:
            parse_yjs(content)
        except ValueError:
            return HttpResponse.json(400, "invalid yjs document")
        with self._lock:
            self._store_content(document, content)
        return HttpResponse(204, content_type=None)

    def _create_for_owner(self, call: _Call) -> HttpResponse:
        header = call.request.header("Authorization")
        realm = [("WWW-Authenticate", "Bearer realm='Create document server to server'")]
        if not header:
            raise _detail(401, "Authorization header is missing.", realm)
        parts = header.split(" ")
        if len(parts) != 2 or parts[0] != "Bearer":
            raise _detail(401, "Invalid authorization header.", realm)
        if parts[1] not in self.s2s_tokens:
            raise _detail(401, "Invalid server-to-server token.", realm)
        if call.request.method != "POST":
            raise _detail(405, f'Method "{call.request.method}" not allowed.')
        self._check_throttle(call, "document", self.throttle_rate)
        data, _ = self._request_data(call)
        errors: dict[str, list[str]] = {}
        for name in ("title", "content", "sub", "email"):
            value = data.get(name)
            if value is None:
                errors[name] = ["This field is required."]
            elif not str(value).strip():
                errors[name] = ["This field may not be blank."]
        sub = str(data.get("sub") or "")
        if "sub" not in errors and (not sub.isascii() or len(sub) > 255):
            errors["sub"] = ["Enter a valid sub. This value should be ASCII only."]
        email_value = str(data.get("email") or "")
        if "email" not in errors and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email_value):
            errors["email"] = ["Enter a valid email address."]
        language = data.get("language")
        if language is not None and language not in [code for code, _ in LANGUAGES]:
            errors["language"] = [f'"{language}" is not a valid choice.']
        if errors:
            raise _bad_request(errors)
        if not self.converter_available:
            raise _bad_request({"content": ["Could not convert content"]})
        markdown = str(data["content"])
        with self._lock:
            user = next((u for u in self.users.values() if u.sub == sub), None) or next(
                (u for u in self.users.values() if u.email.lower() == email_value.lower()), None
            )
            document = self.add_document(str(data["title"]), markdown=markdown)
            document.creator_id = user.id if user else None
            if user is not None:
                self.accesses.append(FakeAccess(document.id, user.id, "owner"))
                recipient = user.email
            else:
                self.invitations.append({"document_id": document.id, "email": email_value, "role": "owner"})
                recipient = email_value
            notify = data.get("send_notification_email", True) not in (False, "false", "False")
            if notify and self.mail_server_available:
                self.outbox.append(
                    {
                        "to": recipient,
                        "subject": data.get("subject") or "A new document was created on your behalf!",
                        "document_id": document.id,
                    }
                )
        if notify and not self.mail_server_available:
            # Reference §9: the mail is sent after the document is committed; its failure is a 500.
            return HttpResponse.html(500, "<h1>Server Error (500)</h1>")
        return HttpResponse.json(201, {"id": document.id})

    def iter_documents(self) -> Iterator[FakeDocument]:
        with self._lock:
            yield from list(self.documents.values())


def main() -> None:  # pragma: no cover - manual runs
    parser = argparse.ArgumentParser(description="A fake La Suite Docs on loopback")
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--release", default="5.4.1")
    args = parser.parse_args()
    with FakeDocsServer(release=args.release, port=args.port, external_api=SUITE_AI_EXTERNAL_API) as docs:
        user = docs.add_user("demo-sub", "demo@example.org", "Demo User")
        doc = docs.add_document("Demo", owner=user, markdown="# Demo\n\nHello from the fake Docs.")
        print(f"Docs: {docs.url}  OIDC issuer: {docs.oidc.issuer}")
        print(f"document: {doc.id}\ntoken: {docs.token_for(user, expires_in=86400)}")
        threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
