"""A fake OIDC provider on loopback: RFC 7662 token introspection, as Keycloak answers it.

Docs (``OIDC_RS_*``, through django-lasuite) and suite_ai introspect the same user tokens here,
each with its own resource-server client credentials, so both fakes and suite_ai see one token
registry::

    with FakeOIDCProvider(realm="lasuite") as op:
        op.register_client("docs", "docs-secret")            # an RS client allowed to introspect
        token = op.issue_token(sub="alice-sub", email="alice@example.org", client_id="suite-ai")
        op.issue_token(sub=..., active=False)                # revoked
        op.issue_token(sub=..., expires_in=-60)              # expired (introspects as inactive)
        op.issue_token(sub=..., client_id="other-app")       # another audience (azp / client_id)
        op.issue_token(sub=..., scope="email")               # no openid scope
        op.revoke(token); op.expire(token)
        op.issuer, op.introspection_endpoint, op.well_known_url
        op.introspections                                    # [{"client_id", "active", "at"}] (no tokens)
        op.fail_next(status=503, times=1)                    # the introspection endpoint fails

Introspection (``POST`` form ``client_id``, ``client_secret``, ``token``, or HTTP Basic client
auth) answers ``{"active": false}`` for an unknown, revoked or expired token, else Keycloak's claim
set: ``sub, email, name, scope, client_id`` (the client the token was issued to, i.e. the
``azp``; the claim django-lasuite's ``OIDC_RS_AUDIENCE_CLAIM`` reads), ``aud, iss, exp, iat,
typ, token_type, active``. Wrong client credentials → 401 ``invalid_client``.

Recent Keycloak releases only introspect a token for a client present in its ``aud``
(``enforce_introspection_audience``, on by default here): add an audience mapper for every
resource server (``docs``, ``suite-ai``) to the client that obtains the tokens. ``aud`` defaults to
every registered client plus the token's own client; pass ``audiences=[...]`` to narrow it.

The module also holds ``LoopbackServer``, the small threaded HTTP/1.1 server both fakes run on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# --------------------------------------------------------------------------------------------
# The loopback server both fakes share
# --------------------------------------------------------------------------------------------


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    client: str

    def header(self, name: str, default: str = "") -> str:
        value = self.headers.get(name)
        return default if value is None else str(value)

    def cookies(self) -> dict[str, str]:
        jar: dict[str, str] = {}
        for part in self.header("Cookie").split(";"):
            if "=" in part:
                key, value = part.split("=", 1)
                jar[key.strip()] = value.strip()
        return jar

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in urllib.parse.parse_qs(self.body.decode()).items()}

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
        return cls(status, json.dumps(data).encode(), "application/json", list(headers or []))

    @classmethod
    def html(cls, status: int, text: str) -> HttpResponse:
        return cls(status, f'<!doctype html>\n<html lang="en"><body>{text}</body></html>\n'.encode(), "text/html")


class Drop:
    """Close the connection without answering."""


DROP = Drop()


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (random port) calling ``self.handle``."""

    host = "127.0.0.1"

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    # subclasses answer here
    def handle(self, request: HttpRequest) -> HttpResponse | Drop:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if self._httpd is not None:
            return
        self.stopping.clear()
        handler = _make_handler(self.handle)
        self._httpd = ThreadingHTTPServer((self.host, self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(handle: Callable[[HttpRequest], HttpResponse | Drop]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeServer/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _dispatch(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = HttpRequest(
                method=self.command,
                path=split.path,
                query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                headers=self.headers,
                body=body,
                client=self.client_address[0],
            )
            try:
                result = handle(request)
            except Exception as error:  # a bug in the fake: answer like a crashing Django
                result = HttpResponse.html(500, f"<h1>Server Error (500)</h1><!-- {type(error).__name__}: {error} -->")
            if isinstance(result, Drop):
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                self.send_response(result.status)
                if result.content_type and result.status not in (204, 304):
                    self.send_header("Content-Type", result.content_type)
                for key, value in result.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(0 if result.status in (204, 304) else len(result.body)))
                self.end_headers()
                if result.status not in (204, 304) and self.command != "HEAD":
                    self.wfile.write(result.body)
            except OSError:  # the client went away (a timeout on its side)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    return Handler


# --------------------------------------------------------------------------------------------
# Tokens and the provider
# --------------------------------------------------------------------------------------------


@dataclass
class IssuedToken:
    token: str
    sub: str
    email: str
    name: str
    scope: str
    client_id: str
    audiences: list[str] | None
    exp: float
    iat: float
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class FakeOIDCProvider(LoopbackServer):
    def __init__(self, *, realm: str = "lasuite", enforce_introspection_audience: bool = True, port: int = 0) -> None:
        super().__init__(port)
        self.realm = realm
        self.enforce_introspection_audience = enforce_introspection_audience
        self._lock = threading.RLock()
        self._tokens: dict[str, IssuedToken] = {}
        self._clients: dict[str, str] = {}
        self._faults: list[int] = []
        self.introspections: list[dict[str, Any]] = []

    # -- URLs -------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.realm}"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token/introspect"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def well_known_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # -- registry ---------------------------------------------------------------------------

    def register_client(self, client_id: str, client_secret: str) -> None:
        """A confidential client (a resource server) that may call the introspection endpoint."""
        with self._lock:
            self._clients[client_id] = client_secret

    def issue_token(
        self,
        *,
        sub: str,
        email: str = "",
        name: str = "",
        scope: str = "openid email profile",
        client_id: str = "suite-ai",
        audiences: list[str] | None = None,
        expires_in: float = 300.0,
        active: bool = True,
        **extra: Any,
    ) -> str:
        token = "fake-at-" + secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            self._tokens[token] = IssuedToken(
                token=token,
                sub=sub,
                email=email,
                name=name,
                scope=scope,
                client_id=client_id,
                audiences=list(audiences) if audiences is not None else None,
                exp=now + expires_in,
                iat=now,
                revoked=not active,
                extra=dict(extra),
            )
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens[token].revoked = True

    def expire(self, token: str) -> None:
        with self._lock:
            self._tokens[token].exp = time.time() - 1

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * times)

    def audiences_of(self, issued: IssuedToken) -> list[str]:
        if issued.audiences is not None:
            return list(issued.audiences)
        with self._lock:
            return sorted({issued.client_id, *self._clients})

    def introspect(self, token: str, client_id: str) -> dict[str, Any]:
        """The introspection answer for ``token`` asked by ``client_id`` (already authenticated)."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.revoked or issued.exp <= time.time():
            return {"active": False}
        audiences = self.audiences_of(issued)
        if self.enforce_introspection_audience and client_id not in audiences and client_id != issued.client_id:
            return {"active": False}
        claims: dict[str, Any] = {
            "exp": int(issued.exp),
            "iat": int(issued.iat),
            "jti": secrets.token_hex(8),
            "iss": self.issuer,
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "sub": issued.sub,
            "typ": "Bearer",
            "azp": issued.client_id,
            "scope": issued.scope,
            "email_verified": True,
            "client_id": issued.client_id,
            "token_type": "Bearer",
            "active": True,
        }
        if issued.email:
            claims["email"] = issued.email
        if issued.name:
            claims["name"] = issued.name
            claims["preferred_username"] = issued.email or issued.sub
        claims.update(issued.extra)
        # Keycloak omits the scope claim entirely when the token has none.
        if not issued.scope:
            claims.pop("scope")
        return claims

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse | Drop:
        base = f"/realms/{self.realm}"
        if request.method == "GET" and request.path == f"{base}/.well-known/openid-configuration":
            return HttpResponse.json(
                200,
                {
                    "issuer": self.issuer,
                    "introspection_endpoint": self.introspection_endpoint,
                    "jwks_uri": self.jwks_uri,
                    "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                    "scopes_supported": ["openid", "email", "profile"],
                    "claims_supported": ["sub", "email", "name", "client_id", "aud", "scope"],
                },
            )
        if request.method == "GET" and request.path == f"{base}/protocol/openid-connect/certs":
            return HttpResponse.json(200, {"keys": []})
        if request.path == f"{base}/protocol/openid-connect/token/introspect":
            if request.method != "POST":
                return HttpResponse.json(405, {"error": "RESTEASY003650: No resource method found for GET"})
            return self._introspection(request)
        return HttpResponse.json(404, {"error": "Unable to find matching target resource method"})

    def _introspection(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return HttpResponse.json(fault, {"error": "unknown_error"})
        form = request.form()
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        authorization = request.header("Authorization")
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
                client_id, client_secret = (urllib.parse.unquote(part) for part in decoded.split(":", 1))
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = ""
        with self._lock:
            known = self._clients.get(client_id)
        if known is None or not secrets.compare_digest(known, client_secret):
            return HttpResponse.json(
                401, {"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}
            )
        token = form.get("token", "")
        answer = self.introspect(token, client_id)
        with self._lock:
            self.introspections.append({"client_id": client_id, "active": answer["active"], "at": time.time()})
        return HttpResponse.json(200, answer)

    def __enter__(self) -> FakeOIDCProvider:
        self.start()
        return self
