"""How suite_ai authenticates to Docs: one strategy per call path.

Docs accepts four kinds of credentials, each on its own routes only:

* a browser's session cookie (``docs_sessionid``), on every ``/api/v1.0/`` route, with Django's
  CSRF check on unsafe methods: the ``csrftoken`` cookie, an equal ``X-CSRFToken`` header, and a
  trusted ``Origin`` (Docs' ``fetchApi.ts`` sends both; its y-provider forwards the cookie the
  same way, reference §3.1 and §3.3);

* a user's OIDC access token, as ``Authorization: Bearer``, on ``/external_api/v1.0/`` only (Docs
  acts as an OIDC resource server and introspects the token). Docs' ``/api/v1.0/`` ignores bearer
  tokens: there the request is anonymous, hence 401 on anything not public;
* a server-to-server token (``DJANGO_SERVER_TO_SERVER_API_TOKENS`` on Docs' side), as
  ``Authorization: Bearer``, on ``POST /api/v1.0/documents/create-for-owner/`` only;
* nothing, for ``GET /api/v1.0/config/``.

A strategy knows its API root and its headers; its ``repr`` never shows the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXTERNAL_API_ROOT = "/external_api/v1.0/"
API_ROOT = "/api/v1.0/"


@dataclass(frozen=True)
class UserToken:
    """The user's OIDC access token, forwarded to Docs' resource-server API."""

    token: str = field(repr=False)
    api_root: str = EXTERNAL_API_ROOT
    name: str = "user_token"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class ServerToServerToken:
    """A token listed in Docs' ``SERVER_TO_SERVER_API_TOKENS``; only ``create-for-owner`` takes it."""

    token: str = field(repr=False)
    api_root: str = API_ROOT
    name: str = "server_to_server_token"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Anonymous:
    """No credential: Docs' public configuration endpoint."""

    api_root: str = API_ROOT
    name: str = "anonymous"

    def headers(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class DocsSession:
    """A Docs user's browser session, forwarded as the y-provider does: only Docs' own session
    cookie (and the CSRF pair, for writes), never the browser's other cookies. ``origin`` is
    Docs' public origin, the one Docs' CSRF check trusts for its own frontend."""

    session: str = field(repr=False)
    csrf_token: str = field(default="", repr=False)
    origin: str = ""
    cookie_name: str = "docs_sessionid"
    api_root: str = API_ROOT
    name: str = "docs_session"

    def headers(self) -> dict[str, str]:
        cookie = f"{self.cookie_name}={self.session}"
        headers: dict[str, str] = {}
        if self.csrf_token:
            cookie += f"; csrftoken={self.csrf_token}"
            headers["X-CSRFToken"] = self.csrf_token
        if self.origin:
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + "/"
        headers["Cookie"] = cookie
        return headers


UserAuth = UserToken | DocsSession
AuthStrategy = UserToken | DocsSession | ServerToServerToken | Anonymous
