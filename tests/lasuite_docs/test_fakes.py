"""The fakes themselves keep Docs' and Keycloak's contracts (raw HTTP, no suite_ai client)."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from tests.fakes.docs_server import (
    SUITE_AI_EXTERNAL_API,
    FakeDocsServer,
    equivalent_link_definition,
    markdown_to_yjs,
)
from tests.fakes.oidc_server import FakeOIDCProvider
from tests.lasuite_docs.conftest import World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestOIDCProvider:
    def test_discovery_and_introspection(self, oidc: FakeOIDCProvider) -> None:
        oidc.register_client("rs", "rs-secret")
        discovery = httpx.get(oidc.well_known_url).json()
        assert discovery["issuer"] == oidc.issuer
        assert discovery["introspection_endpoint"] == oidc.introspection_endpoint
        token = oidc.issue_token(sub="u1", email="u1@example.org", name="U One", client_id="suite-ai")
        answer = httpx.post(
            oidc.introspection_endpoint, data={"client_id": "rs", "client_secret": "rs-secret", "token": token}
        ).json()
        assert answer["active"] is True
        assert (answer["sub"], answer["email"], answer["client_id"], answer["iss"]) == (
            "u1",
            "u1@example.org",
            "suite-ai",
            oidc.issuer,
        )
        assert "openid" in answer["scope"].split() and "rs" in answer["aud"]

    def test_basic_client_auth_and_wrong_credentials(self, oidc: FakeOIDCProvider) -> None:
        oidc.register_client("rs", "rs-secret")
        token = oidc.issue_token(sub="u1")
        ok = httpx.post(oidc.introspection_endpoint, data={"token": token}, auth=("rs", "rs-secret"))
        assert ok.json()["active"] is True
        refused = httpx.post(
            oidc.introspection_endpoint, data={"client_id": "rs", "client_secret": "nope", "token": token}
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    @pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
    def test_inactive_tokens(self, oidc: FakeOIDCProvider, state: str) -> None:
        oidc.register_client("rs", "rs-secret")
        token = {
            "expired": oidc.issue_token(sub="u1", expires_in=-5),
            "revoked": oidc.issue_token(sub="u1", active=False),
            "unknown": "never-issued",
        }[state]
        answer = httpx.post(
            oidc.introspection_endpoint, data={"client_id": "rs", "client_secret": "rs-secret", "token": token}
        )
        assert answer.json() == {"active": False}


class TestDocsContract:
    def test_api_root_ignores_bearer_tokens(self, world: World) -> None:
        token = world.docs.token_for(world.alice)
        url = f"{world.docs.url}/api/v1.0/documents/{world.source.id}/"
        refused = httpx.get(url, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Authentication credentials were not provided."}
        world.docs.set_link(world.source, "public", "reader")
        assert httpx.get(url, headers=bearer(token)).json()["user_role"] is None  # anonymous, yet public
        assert (
            httpx.get(f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/", headers=bearer(token)).json()[
                "user_role"
            ]
            == "owner"
        )

    def test_external_api_is_off_without_the_resource_server(self, oidc: FakeOIDCProvider) -> None:
        with FakeDocsServer(oidc=oidc, resource_server_enabled=False) as docs:
            assert httpx.get(f"{docs.url}/external_api/v1.0/documents/").status_code == 404

    @pytest.mark.parametrize(
        ("given", "message"),
        [
            ("not-a-uuid", "Must be a valid UUID."),
            ("1ef21d2f-1207-6660-8c4f-419efbd44d48", "The provided ID is not a valid UUID."),  # v6
        ],
    )
    def test_children_ids_are_validated(self, world: World, given: str, message: str) -> None:
        token = world.docs.token_for(world.alice)
        url = f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/children/"
        answer = httpx.post(url, json={"id": given, "title": "x"}, headers=bearer(token))
        assert answer.status_code == 400 and answer.json() == {"id": [message]}

    def test_duplicate_id_answer_is_docs_own(self, world: World) -> None:
        token = world.docs.token_for(world.alice)
        url = f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/children/"
        note_id = str(uuid.uuid4())
        created = httpx.post(url, json={"id": note_id, "title": "x"}, headers=bearer(token))
        assert created.status_code == 201 and created.json()["id"] == note_id
        assert created.json()["depth"] == 2 and created.json()["path"].startswith(world.source.path)
        again = httpx.post(url, json={"id": note_id, "title": "x"}, headers=bearer(token))
        assert again.status_code == 400
        assert again.json() == {"id": ["A document with this ID already exists. You cannot override it."]}

    def test_content_endpoint(self, world: World) -> None:
        token = world.docs.token_for(world.alice)
        url = f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/content/"
        got = httpx.get(url, headers=bearer(token))
        assert got.headers["content-type"] == "text/plain"
        assert got.headers["cache-control"] == "private, no-cache"
        assert got.headers["last-modified"].endswith(" UTC")
        assert httpx.get(url, headers={**bearer(token), "If-None-Match": got.headers["etag"]}).status_code == 304
        bad = httpx.patch(url, json={"content": base64.b64encode(b"\x01\x02garbage").decode()}, headers=bearer(token))
        assert bad.status_code == 400 and bad.json() == "invalid yjs document"
        not_b64 = httpx.patch(url, json={"content": "%%%"}, headers=bearer(token))
        assert not_b64.json() == {"content": ["Invalid base64 content."]}
        new = markdown_to_yjs("# New")
        assert httpx.patch(url, json={"content": new}, headers=bearer(token)).status_code == 204
        assert world.docs.content(world.source) == new
        assert len(world.docs.document(world.source.id).versions) == 2, "each change is an S3 version"
        httpx.patch(url, json={"content": new}, headers=bearer(token))
        assert len(world.docs.document(world.source.id).versions) == 2, "same bytes, no new version"

    def test_default_external_api_refuses_content(self, oidc: FakeOIDCProvider) -> None:
        with FakeDocsServer(oidc=oidc) as docs:
            alice = docs.add_user("alice-sub")
            doc = docs.add_document("x", owner=alice, markdown="# x")
            token = docs.token_for(alice)
            base = f"{docs.url}/external_api/v1.0/documents/{doc.id}/"
            assert httpx.get(base, headers=bearer(token)).status_code == 200
            refused = httpx.get(base + "content/", headers=bearer(token))
            assert refused.status_code == 403
            assert refused.json() == {"detail": "You do not have permission to perform this action."}
            docs.enable_external_actions("content_retrieve")
            assert httpx.get(base + "content/", headers=bearer(token)).status_code == 200

    def test_children_inherit_accesses_and_link_reach(self, world: World) -> None:
        child = world.docs.add_document("Child", parent=world.source)
        grandchild = world.docs.add_document("Grandchild", parent=child)
        assert world.docs.role_of(grandchild, world.bob) == "reader"
        assert world.docs.abilities_of(grandchild, world.dave)["content_patch"] is True
        assert world.docs.abilities_of(grandchild, world.carol)["retrieve"] is False
        world.docs.set_link(child, "authenticated", "editor")
        assert world.docs.abilities_of(grandchild, world.carol)["content_patch"] is True
        assert world.docs.abilities_of(grandchild, None)["retrieve"] is False  # anonymous
        assert world.docs.abilities_of(world.source, world.carol)["retrieve"] is False

    def test_equivalent_link_definition(self) -> None:
        links: list[dict[str, str | None]] = [
            {"link_reach": "authenticated", "link_role": "reader"},
            {"link_reach": "authenticated", "link_role": "editor"},
            {"link_reach": "restricted", "link_role": None},
        ]
        assert equivalent_link_definition(links) == {"link_reach": "authenticated", "link_role": "editor"}
        assert equivalent_link_definition([]) == {"link_reach": None, "link_role": None}

    def test_throttle_answers_like_drf(self, oidc: FakeOIDCProvider) -> None:
        with FakeDocsServer(oidc=oidc, throttle_rate=2) as docs:
            alice = docs.add_user("alice-sub")
            doc = docs.add_document("x", owner=alice)
            token = docs.token_for(alice)
            url = f"{docs.url}/external_api/v1.0/documents/{doc.id}/"
            statuses = [httpx.get(url, headers=bearer(token)).status_code for _ in range(3)]
            throttled = httpx.get(url, headers=bearer(token))
        assert statuses == [200, 200, 429]
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert throttled.json()["detail"].startswith("Request was throttled. Expected available in")

    def test_legacy_mode_serves_content_in_the_document(self, oidc: FakeOIDCProvider) -> None:
        with FakeDocsServer(oidc=oidc, release="4.8.6", external_api=SUITE_AI_EXTERNAL_API) as docs:
            alice = docs.add_user("alice-sub")
            doc = docs.add_document("x", owner=alice, markdown="# x")
            token = docs.token_for(alice)
            url = f"{docs.url}/external_api/v1.0/documents/{doc.id}/"
            body = httpx.get(url, headers=bearer(token)).json()
            assert body["content"] == docs.content(doc)
            assert "content" not in httpx.get(url, params={"without_content": "true"}, headers=bearer(token)).json()
            assert "content_patch" not in body["abilities"] and body["abilities"]["content"] is True
            assert "RELEASE_VERSION" not in httpx.get(f"{docs.url}/api/v1.0/config/").json()

    def test_a_session_cookie_is_handed_out(self, world: World) -> None:
        answer = httpx.get(f"{world.docs.url}/api/v1.0/config/")
        assert answer.cookies.get("docs_sessionid")
        assert answer.json()["RELEASE_VERSION"] == "5.4.1"


class TestContentNegotiation:
    """Reference §9: Docs has only DRF's JSON renderer; DRF negotiates before anything else."""

    @pytest.mark.parametrize("accept", ["text/plain", "text/html", "application/octet-stream", "text/*"])
    def test_an_accept_without_json_is_406_everywhere(self, world: World, accept: str) -> None:
        token = world.docs.token_for(world.alice)
        content = f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/content/"
        answers = [
            httpx.get(content, headers={**bearer(token), "Accept": accept}),
            httpx.get(content, headers={"Accept": accept}),  # before authentication
            httpx.get(f"{world.docs.url}/api/v1.0/config/", headers={"Accept": accept}),
            httpx.post(
                f"{world.docs.url}/api/v1.0/documents/create-for-owner/",
                headers={**bearer("server-api-token"), "Accept": accept},
                json={"title": "x", "content": "# x", "sub": "alice-sub", "email": "alice@example.org"},
            ),
        ]
        for answer in answers:
            assert answer.status_code == 406, answer.request.url
            assert answer.json() == {"detail": "Could not satisfy the request Accept header."}
        assert len(world.docs.documents) == 1, "nothing was created"

    def test_406_comes_before_304(self, world: World) -> None:
        token = world.docs.token_for(world.alice)
        content = f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/content/"
        etag = httpx.get(content, headers=bearer(token)).headers["ETag"]
        assert httpx.get(content, headers={**bearer(token), "If-None-Match": etag}).status_code == 304
        refused = httpx.get(content, headers={**bearer(token), "If-None-Match": etag, "Accept": "text/plain"})
        assert refused.status_code == 406

    @pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/*", "text/plain, */*;q=0.1"])
    def test_json_or_anything_reads_the_text(self, world: World, accept: str | None) -> None:
        token = world.docs.token_for(world.alice)
        headers = {**bearer(token), **({"Accept": accept} if accept else {})}
        client = httpx.Client(headers={"Accept": ""} if accept is None else {})
        answer = client.get(f"{world.docs.url}/external_api/v1.0/documents/{world.source.id}/content/", headers=headers)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
        assert base64.b64decode(answer.text)

    def test_create_for_owner_with_the_mail_server_down_creates_then_answers_500(self, world: World) -> None:
        world.docs.configure(mail_server_available=False)
        body = {"title": "Note", "content": "# Note", "sub": "alice-sub", "email": "alice@example.org"}
        url = f"{world.docs.url}/api/v1.0/documents/create-for-owner/"
        for _ in range(3):
            answer = httpx.post(url, headers=bearer("server-api-token"), json=body)
            assert answer.status_code == 500 and "text/html" in answer.headers["Content-Type"]
        assert len([d for d in world.docs.iter_documents() if d.title == "Note"]) == 3, "each retry creates one"
        answer = httpx.post(url, headers=bearer("server-api-token"), json={**body, "send_notification_email": False})
        assert answer.status_code == 201

    def test_the_list_filters_like_docs(self, world: World) -> None:
        token = world.docs.token_for(world.alice)
        mine = world.docs.add_document("Synthèse — Budget", owner=world.alice)
        mine.creator_id = world.alice.id
        shared = world.docs.add_document("SYNTHESE budget (copie)", owner=world.bob)
        world.docs.grant(shared, world.alice, "editor")
        url = f"{world.docs.url}/external_api/v1.0/documents/"
        found = httpx.get(url, headers=bearer(token), params={"title": "synthese"}).json()["results"]
        assert sorted(d["title"] for d in found) == ["SYNTHESE budget (copie)", "Synthèse — Budget"]
        created = httpx.get(url, headers=bearer(token), params={"title": "synthese", "is_creator_me": "true"})
        assert [d["id"] for d in created.json()["results"]] == [mine.id]
