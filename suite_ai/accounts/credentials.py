"""The caller's credentials, kept encrypted on a job only while the worker needs them to act on
Docs as that user. Encrypted with a key derived from SECRET_KEY; wiped when the job ends."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

DOCS_SESSION = "docs_session"


@dataclass(frozen=True)
class Credentials:
    # "oidc": the user's access token, forwarded to Docs' external API; "docs_session": the user's
    # Docs session cookie, forwarded to Docs' /api/v1.0/ (suite_ai.accounts.docs_session)
    kind: str
    token: str

    def __repr__(self) -> str:  # never print a token, even in a traceback
        return f"Credentials(kind={self.kind!r}, token=<hidden>)"


def _fernet() -> Fernet:
    key = hashlib.sha256(("suite_ai.credentials:" + settings.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_credentials(credentials: Credentials) -> str:
    return _fernet().encrypt(json.dumps(asdict(credentials)).encode()).decode()


def decrypt_credentials(blob: str) -> Credentials | None:
    try:
        data = json.loads(_fernet().decrypt(blob.encode()))
    except (InvalidToken, ValueError):
        return None
    return Credentials(kind=data["kind"], token=data["token"])
