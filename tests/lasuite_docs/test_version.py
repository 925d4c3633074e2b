"""Version detection and the content API that follows from it (v5 endpoint vs. <= 4.8 field)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suite_ai.lasuite_docs import ContentApi, DocsClient, RetryPolicy, parse_release, write_child_note
from tests.fakes.docs_server import SUITE_AI_EXTERNAL_API, FakeDocsServer, markdown_to_yjs
from tests.fakes.oidc_server import FakeOIDCProvider
from tests.lasuite_docs.conftest import SOURCE_MARKDOWN


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5.4.1", (5, 4, 1)), ("v4.8.6", (4, 8, 6)), ("5.0", (5, 0, 0)), ("NA", None), (None, None), ("", None)],
)
def test_parse_release(value: object, expected: tuple[int, int, int] | None) -> None:
    assert parse_release(value) == expected


def make_docs(oidc: FakeOIDCProvider, release: str, **kwargs: object) -> FakeDocsServer:
    server = FakeDocsServer(oidc=oidc, release=release, external_api=SUITE_AI_EXTERNAL_API, **kwargs)  # type: ignore[arg-type]
    server.start()
    return server


@pytest.fixture
def legacy(oidc: FakeOIDCProvider) -> Iterator[FakeDocsServer]:
    server = make_docs(oidc, "4.8.6")
    yield server
    server.stop()


def fast_client(server: FakeDocsServer, token: str, **kwargs: object) -> DocsClient:
    return DocsClient(server.url, user_token=token, retry=RetryPolicy(backoff_base=0.01), **kwargs)  # type: ignore[arg-type]


def test_v5_is_read_from_release_version_and_uses_the_content_endpoint(docs: FakeDocsServer) -> None:
    alice = docs.add_user("alice-sub")
    source = docs.add_document("Source", owner=alice, markdown=SOURCE_MARKDOWN)
    with fast_client(docs, docs.token_for(alice)) as client:
        config = client.get_config()
        assert config.release == (5, 4, 1)
        assert client.content_api() is ContentApi.V5
        content = client.get_content(source.id)
    assert content.content_b64 == docs.content(source)
    assert content.etag and content.etag.startswith('"')
    assert docs.requests_to(r"/content/$", "GET"), "v5 reads through GET content/"


def test_legacy_docs_without_release_version_is_detected_from_the_document(legacy: FakeDocsServer) -> None:
    alice = legacy.add_user("alice-sub")
    source = legacy.add_document("Source", owner=alice, markdown=SOURCE_MARKDOWN)
    with fast_client(legacy, legacy.token_for(alice)) as client:
        assert "RELEASE_VERSION" not in client.get_config().raw  # 4.8 did not publish it
        content = client.get_content(source.id)
        assert client.content_api() is ContentApi.LEGACY
    assert content.content_b64 == legacy.content(source)
    assert content.etag is None
    assert not legacy.requests_to(r"/content/$"), "<= 4.8 has no raw content endpoint"


def test_v5_0_without_release_version_is_detected_as_v5(oidc: FakeOIDCProvider) -> None:
    server = make_docs(oidc, "5.0.0")
    try:
        alice = server.add_user("alice-sub")
        source = server.add_document("Source", owner=alice, markdown=SOURCE_MARKDOWN)
        with fast_client(server, server.token_for(alice)) as client:
            assert client.get_config().content_api is None
            assert client.get_content(source.id).content_b64 == server.content(source)
            assert client.content_api() is ContentApi.V5
    finally:
        server.stop()


def test_published_legacy_release_is_enough_to_choose(oidc: FakeOIDCProvider) -> None:
    server = make_docs(oidc, "4.8.6", expose_release=True)
    try:
        alice = server.add_user("alice-sub")
        with fast_client(server, server.token_for(alice)) as client:
            assert client.content_api() is ContentApi.LEGACY
        assert [r["path"] for r in server.requests] == ["/api/v1.0/config/"]
    finally:
        server.stop()


def test_legacy_note_carries_its_content_in_the_create_and_a_retry_patches_the_document(
    legacy: FakeDocsServer,
) -> None:
    alice = legacy.add_user("alice-sub")
    source = legacy.add_document("Source", owner=alice, markdown=SOURCE_MARKDOWN)
    note_content = markdown_to_yjs("# Note\n\nFrom the legacy path")
    first_id = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    with fast_client(legacy, legacy.token_for(alice)) as client:
        ref = write_child_note(client, source.id, first_id, "Note", note_content)
    assert ref.created
    assert legacy.text(first_id) == ["Note", "From the legacy path"]
    (create,) = legacy.requests_to(r"/children/$", "POST")
    assert create["json"]["content"] == note_content
    assert not legacy.requests_to(r"/content/$")

    # An earlier attempt created the child empty (e.g. through another path): the retry PATCHes it.
    second = legacy.add_document("Note 2", parent=source, id="6f1c2a5e-6b6e-4a36-9f1e-3f1d3b8f5a10")
    with fast_client(legacy, legacy.token_for(alice)) as client:
        ref = write_child_note(client, source.id, second.id, "Note 2", note_content)
    assert ref.outcome == "completed"
    assert legacy.content(second) == note_content
    patch = legacy.requests_to(rf"/documents/{second.id}/$", "PATCH")
    assert len(patch) == 1 and patch[0]["json"] == {"content": note_content, "websocket": False}


def test_content_api_can_be_forced(docs: FakeDocsServer) -> None:
    alice = docs.add_user("alice-sub")
    with DocsClient(docs.url, user_token=docs.token_for(alice), content_api="legacy") as client:
        assert client.content_api() is ContentApi.LEGACY
    assert docs.requests == [], "a forced content API needs no configuration read"
