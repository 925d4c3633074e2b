"""Reading documents through Docs' external API, and how refusals map to typed errors."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

import pytest

from suite_ai.lasuite_docs import (
    DocsBadRequest,
    DocsClient,
    DocsError,
    DocsForbidden,
    DocsNotFound,
    DocsUnauthorized,
)
from suite_ai.lasuite_docs.client import tls_context
from tests.fakes.docs_server import DEFAULT_EXTERNAL_API, markdown_to_yjs
from tests.lasuite_docs.conftest import World

Client = Callable[..., DocsClient]


def test_metadata_and_abilities_follow_the_role(world: World, client_for: Client) -> None:
    owner = client_for(world.alice).get_document(world.source.id)
    reader = client_for(world.bob).get_document(world.source.id)
    editor = client_for(world.dave).get_document(world.source.id)
    assert (owner.title, owner.user_role, owner.depth) == ("Minutes", "owner", 1)
    assert owner.can("content_patch") and owner.can("children_create") and owner.can("destroy")
    assert reader.user_role == "reader"
    assert reader.can("retrieve") and reader.can("content_retrieve")
    assert not reader.can("content_patch") and not reader.can("children_create")
    assert editor.can("children_create") and editor.can("content_patch") and not editor.can("destroy")


def test_link_reach_gives_authenticated_users_the_link_role(world: World, client_for: Client) -> None:
    with pytest.raises(DocsForbidden):
        client_for(world.carol).get_document(world.source.id)
    world.docs.set_link(world.source, "authenticated", "commenter")
    seen = client_for(world.carol).get_document(world.source.id)
    assert seen.user_role is None  # no access of her own: the link gives the rights
    assert seen.can("comment") and not seen.can("content_patch")
    assert seen.computed_link_reach == "authenticated"


def test_content_with_etag_and_304(world: World, client_for: Client) -> None:
    client = client_for(world.bob)
    first = client.get_content(world.source.id)
    assert first.content_b64 == world.docs.content(world.source)
    assert first.update_bytes()[:1]  # a Yjs update, decoded
    again = client.get_content(world.source.id, etag=first.etag)
    assert again.not_modified and again.content_b64 == ""

    world.docs._store_content(world.source, markdown_to_yjs("# Changed"))
    changed = client.get_content(world.source.id, etag=first.etag)
    assert not changed.not_modified
    assert changed.etag != first.etag
    assert changed.content_b64 == world.docs.content(world.source)


def test_a_document_without_content_reads_empty(world: World, client_for: Client) -> None:
    blank = world.docs.add_document("Blank", owner=world.alice)
    content = client_for(world.alice).get_content(blank.id)
    assert content.is_empty and content.etag is None


def test_not_found(world: World, client_for: Client) -> None:
    with pytest.raises(DocsNotFound) as caught:
        client_for(world.alice).get_document("0b6f5f5c-8d5e-4d0f-9a53-1d2f0d6c7a11")
    assert caught.value.code == "docs_not_found" and caught.value.status == 404


def test_forbidden(world: World, client_for: Client) -> None:
    with pytest.raises(DocsForbidden) as caught:
        client_for(world.carol).get_content(world.source.id)
    assert caught.value.code == "docs_forbidden" and caught.value.status == 403
    assert not caught.value.retryable


@pytest.mark.parametrize("how", ["expired", "revoked", "server_to_server"])
def test_a_token_docs_answers_with_its_html_400_is_unauthorized(world: World, client_for: Client, how: str) -> None:
    # Reference §9: a real Docs 5.4.1 answers 400 with Django's HTML page for these, not 401.
    token = world.docs.token_for(world.alice)
    if how == "server_to_server":
        token = "server-api-token"
    else:
        getattr(world.docs.oidc, "expire" if how == "expired" else "revoke")(token)
    with pytest.raises(DocsUnauthorized) as caught:
        client_for(None, token=token).get_document(world.source.id)
    assert caught.value.code == "docs_unauthorized" and caught.value.status == 400
    assert "sign in again" in caught.value.message
    (request,) = world.docs.requests_to(rf"/documents/{world.source.id}/$")
    assert request["status"] == 400


def test_a_token_from_another_issuer_is_unauthorized(world: World, client_for: Client) -> None:
    token = world.docs.token_for(world.alice, iss="https://elsewhere.example.org/realms/other")
    with pytest.raises(DocsUnauthorized):
        client_for(None, token=token).get_document(world.source.id)


def test_a_token_for_a_user_docs_does_not_know_is_unauthorized(world: World, client_for: Client) -> None:
    token = world.docs.oidc.issue_token(sub="stranger-sub", email="stranger@example.org")
    with pytest.raises(DocsUnauthorized, match="No user found"):
        client_for(None, token=token).get_document(world.source.id)


def test_a_token_issued_to_another_application_is_forbidden(world: World, client_for: Client) -> None:
    token = world.docs.token_for(world.alice, client_id="other-app")
    with pytest.raises(DocsForbidden) as caught:
        client_for(None, token=token).get_document(world.source.id)
    assert "OIDC_RS_ALLOWED_AUDIENCES" in caught.value.message


def test_a_token_without_the_openid_scope_is_unauthorized(world: World, client_for: Client) -> None:
    token = world.docs.token_for(world.alice, scope="email profile")
    with pytest.raises(DocsUnauthorized, match="not issued for Docs"):
        client_for(None, token=token).get_document(world.source.id)


def test_docs_json_400_stays_a_bad_request(world: World, client_for: Client) -> None:
    # Only Docs' HTML page means a refused token; its JSON 400s are about the payload.
    world.docs.enable_external_actions("content")
    with pytest.raises(DocsBadRequest, match="invalid yjs document"):
        client_for(world.alice).update_content(world.source.id, b"not a yjs update")


def test_a_token_without_docs_in_its_audience_is_not_introspected(world: World, client_for: Client) -> None:
    # Keycloak only introspects a token for a client in its "aud": the audience mapper matters.
    token = world.docs.token_for(world.alice, audiences=["suite-ai"])
    with pytest.raises(DocsUnauthorized):
        client_for(None, token=token).get_document(world.source.id)
    assert world.docs.oidc.introspections[-1] == {
        "client_id": "docs",
        "active": False,
        "at": world.docs.oidc.introspections[-1]["at"],
    }


def test_content_needs_the_external_api_action(world: World, client_for: Client) -> None:
    world.docs.configure(external_api=DEFAULT_EXTERNAL_API)
    client = client_for(world.alice)
    assert client.get_document(world.source.id).can("content_retrieve")  # the user may...
    with pytest.raises(DocsForbidden, match="EXTERNAL_API"):  # ...but Docs does not expose it
        client.get_content(world.source.id)


def test_a_call_without_user_token_is_not_configured(world: World) -> None:
    with DocsClient(world.docs.url) as client, pytest.raises(DocsError) as caught:
        client.get_document(world.source.id)
    assert caught.value.code == "docs_not_configured"
    assert world.docs.requests == []


def test_tokens_and_content_never_reach_the_logs(
    world: World, client_for: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.docs.token_for(world.alice)
    client = client_for(None, token=token)
    world.docs.fail_next(r"/content/$", kind="status", status=503)
    with caplog.at_level(logging.DEBUG, logger="suite_ai.lasuite_docs"):
        content = client.get_content(world.source.id)
        with pytest.raises(DocsForbidden):
            client_for(world.carol).get_content(world.source.id)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "503" in logged, "the retry is logged"
    assert token not in logged and content.content_b64[:40] not in logged
    assert token not in repr(client) and token not in repr(client._user)


def test_clients_share_one_tls_context(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client is made per task and per Docs-session lookup: the CA bundle is read once for all
    of them, not once per client (each read parses the whole bundle)."""
    reads: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        reads.append(args or kwargs)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls_context.cache_clear()
    for user in (world.alice, world.bob, world.alice):
        with world.client(user) as client:
            assert client.get_document(world.source.id).title == "Minutes"
    assert len(reads) == 1
