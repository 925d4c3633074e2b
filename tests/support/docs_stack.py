"""The fake La Suite Docs with its identity provider, as the end-to-end tests wire suite_ai to it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.fakes.docs_server import FakeDocsServer

SUITE_AI_CLIENT = ("suite-ai", "suite-ai-rs-secret")  # suite_ai's client at the fake provider


@contextlib.contextmanager
def fake_docs() -> Iterator[FakeDocsServer]:
    """Docs, its provider knowing suite_ai's client, and the external API's content actions on."""
    with FakeDocsServer() as server:
        server.oidc.register_client(*SUITE_AI_CLIENT)
        server.enable_external_actions("content_retrieve", "content")
        yield server


def docs_settings(docs: FakeDocsServer) -> dict[str, str]:
    """suite_ai's environment for that Docs and provider (OIDC resource server of the same realm)."""
    return {
        "DOCS_BASE_URL": docs.url,
        "OIDC_OP_URL": docs.oidc.issuer,
        "OIDC_OP_INTROSPECTION_ENDPOINT": docs.oidc.introspection_endpoint,
        "OIDC_RS_CLIENT_ID": SUITE_AI_CLIENT[0],
        "OIDC_RS_CLIENT_SECRET": SUITE_AI_CLIENT[1],
        "OIDC_RS_ALLOWED_AUDIENCES": "suite-ai",
        "OIDC_VERIFY_SSL": "false",
    }
