"""The two configurable fallbacks: a markdown upload as the child's file, and create-for-owner."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from suite_ai.lasuite_docs import (
    DocsBadRequest,
    DocsClient,
    DocsNotConfigured,
    DocsNoteConflict,
    DocsUnauthorized,
    NoteMode,
    NoteOutcome,
    create_owner_note,
    new_note_id,
    upload_child_note,
    write_note,
)
from suite_ai.lasuite_docs.notes import note_filename
from tests.fakes.docs_server import DEFAULT_EXTERNAL_API
from tests.lasuite_docs.conftest import World

Client = Callable[..., DocsClient]
MARKDOWN = "# Synthèse\n\nThe budget is agreed.\n\n- ship it\n- review it"


class TestMarkdownUpload:
    def test_the_note_is_uploaded_as_markdown_and_converted_by_docs(self, world: World, client_for: Client) -> None:
        # Works with Docs' default external API actions: no content action needed.
        world.docs.configure(conversion_upload_enabled=True, external_api=DEFAULT_EXTERNAL_API)
        note_id = new_note_id()
        ref = upload_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", MARKDOWN)

        assert ref.outcome is NoteOutcome.CREATED and ref.mode is NoteMode.CHILD_UPLOAD
        assert [child.id for child in world.docs.children(world.source)] == [note_id]
        note = world.docs.document(note_id)
        assert note.title == "Synthèse.md", "Docs names the document after the file"
        assert note.source_markdown == MARKDOWN
        assert world.docs.text(note) == ["Synthèse", "The budget is agreed.", "ship it", "review it"]
        (post,) = world.docs.requests_to(r"/children/$", "POST")
        assert post["content_type"].startswith("multipart/form-data")
        assert client_for(world.bob).get_document(note_id).can("retrieve"), "shared by inheritance too"

    def test_the_part_is_sent_as_text_markdown(self, world: World, client_for: Client) -> None:
        # Docs forwards the part's type to the converter: octet-stream would be parsed as Yjs and fail.
        world.docs.configure(conversion_upload_enabled=True)
        client = client_for(world.alice)
        with pytest.raises(DocsBadRequest, match="Could not convert file content"):
            client.upload_child(world.source.id, filename="n.md", data=b"# x", content_type="application/octet-stream")
        note = client.upload_child(world.source.id, filename="n.md", data=b"# x")
        assert world.docs.text(note.id) == ["x"]

    def test_a_retry_finds_the_note_done(self, world: World, client_for: Client) -> None:
        world.docs.configure(conversion_upload_enabled=True)
        world.docs.fail_next(r"/children/$", kind="drop_after", method="POST")
        note_id = new_note_id()
        ref = upload_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", MARKDOWN)
        assert ref.outcome is NoteOutcome.ALREADY_DONE
        assert [child.id for child in world.docs.children(world.source)] == [note_id]
        assert world.docs.text(note_id)[0] == "Synthèse"

    def test_an_upload_id_taken_elsewhere_is_refused(self, world: World, client_for: Client) -> None:
        world.docs.configure(conversion_upload_enabled=True)
        elsewhere = world.docs.add_document("Elsewhere", owner=world.alice)
        with pytest.raises(DocsNoteConflict):
            upload_child_note(client_for(world.alice), world.source.id, elsewhere.id, "Synthèse", MARKDOWN)
        assert world.docs.content(elsewhere) is None

    def test_refused_when_docs_does_not_accept_uploads(self, world: World, client_for: Client) -> None:
        with pytest.raises(DocsNotConfigured, match="CONVERSION_UPLOAD_ENABLED"):
            upload_child_note(client_for(world.alice), world.source.id, new_note_id(), "Synthèse", MARKDOWN)
        assert not world.docs.requests_to(r"/children/$")

    @pytest.mark.parametrize(
        ("title", "filename"),
        [("Synthèse", "Synthèse.md"), ("a/b\\c", "a b c.md"), ("notes.md", "notes.md"), ("", "Note.md")],
    )
    def test_filenames(self, title: str, filename: str) -> None:
        assert note_filename(title) == filename
        assert len(note_filename("x" * 400)) == 255


class TestCreateForOwner:
    def client(self, world: World, token: str | None = "server-api-token") -> DocsClient:
        return DocsClient(world.docs.url, server_token=token, sleep=world.sleeps.append)

    def test_a_root_document_owned_by_the_user(self, world: World, client_for: Client) -> None:
        with self.client(world) as client:
            ref = create_owner_note(
                client, title="Synthèse", markdown=MARKDOWN, sub="alice-sub", email="alice@example.org"
            )
        assert ref.mode is NoteMode.OWNER_ROOT and ref.created
        document = world.docs.document(ref.document_id)
        assert document.depth == 1 and document.title == "Synthèse"
        assert world.docs.role_of(document, world.alice) == "owner"
        assert world.docs.text(document)[:2] == ["Synthèse", "The budget is agreed."]
        assert world.docs.outbox[-1]["to"] == "alice@example.org"
        # Not a child: the source's readers do not see it.
        assert world.docs.role_of(document, world.bob) is None
        (post,) = world.docs.requests_to(r"create-for-owner/$")
        assert post["json"] == {
            "title": "Synthèse",
            "content": MARKDOWN,
            "sub": "alice-sub",
            "email": "alice@example.org",
        }
        # The same token is worthless on the rest of the API.
        with pytest.raises(DocsUnauthorized):
            client_for(None, token="server-api-token").get_document(ref.document_id)

    def test_an_unknown_user_gets_an_owner_invitation(self, world: World) -> None:
        with self.client(world) as client:
            document_id = client.create_for_owner(
                title="Welcome", markdown="# Hi", sub="new-sub", email="new@example.org", send_notification_email=False
            )
        assert world.docs.invitations == [{"document_id": document_id, "email": "new@example.org", "role": "owner"}]
        assert world.docs.outbox == []

    @pytest.mark.parametrize("token", ["wrong-token", None])
    def test_without_a_valid_server_token(self, world: World, token: str | None) -> None:
        with self.client(world, token) as client, pytest.raises((DocsUnauthorized, DocsNotConfigured)) as caught:
            client.create_for_owner(title="x", markdown="# x", sub="alice-sub", email="alice@example.org")
        if token is None:
            assert caught.value.code == "docs_not_configured"
            assert not world.docs.requests_to(r"create-for-owner/$")
        else:
            assert caught.value.code == "docs_unauthorized"
            assert "Invalid server-to-server token." in caught.value.message
        assert len(world.docs.documents) == 1

    def test_docs_validation_errors_are_reported(self, world: World) -> None:
        with self.client(world) as client, pytest.raises(DocsBadRequest) as caught:
            client.create_for_owner(title="x", markdown="# x", sub="alice-sub", email="not-an-email")
        assert caught.value.errors == {"email": ["Enter a valid email address."]}
        assert "email" in caught.value.message

    def test_write_note_owner_mode(self, world: World) -> None:
        with self.client(world) as client:
            ref = write_note(
                client,
                NoteMode.OWNER_ROOT,
                parent_id=world.source.id,
                note_id=new_note_id(),
                title="Synthèse",
                markdown=MARKDOWN,
                owner_sub="alice-sub",
                owner_email="alice@example.org",
            )
        assert ref.url == f"{world.docs.url}/docs/{ref.document_id}/"
        assert world.docs.role_of(ref.document_id, world.alice) == "owner"
