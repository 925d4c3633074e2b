"""The two configurable fallbacks: a markdown upload as the child's file, and create-for-owner."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from suite_ai.lasuite_docs import (
    DocsBadRequest,
    DocsClient,
    DocsNotConfigured,
    DocsNoteConflict,
    DocsNoteOutcomeUnknown,
    DocsRateLimited,
    DocsUnauthorized,
    DocsUnavailable,
    NoteMode,
    NoteOutcome,
    PendingCreate,
    create_owner_note,
    new_note_id,
    upload_child_note,
    write_note,
)
from suite_ai.lasuite_docs.notes import note_filename
from tests.fakes.docs_server import DEFAULT_EXTERNAL_API
from tests.lasuite_docs.conftest import World

Client = Callable[..., DocsClient]


class MemoryJournal:
    """``CreateJournal`` in memory, shared by the attempts of one job in a test."""

    def __init__(self) -> None:
        self.saved: PendingCreate | None = None
        self.begun = 0

    def pending(self) -> PendingCreate | None:
        return self.saved

    def begin(self, pending: PendingCreate) -> None:
        self.begun += 1
        self.saved = pending

    def abandon(self) -> None:
        self.saved = None


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
        assert ref.title == "Synthèse.md", "the reference says the title Docs keeps"
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
        assert ref.outcome is NoteOutcome.ALREADY_DONE and ref.title == "Synthèse.md"
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
                client,
                title="Synthèse",
                markdown=MARKDOWN,
                sub="alice-sub",
                email="alice@example.org",
                journal=MemoryJournal(),
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
                journal=MemoryJournal(),
            )
        assert ref.url == f"{world.docs.url}/docs/{ref.document_id}/"
        assert world.docs.role_of(ref.document_id, world.alice) == "owner"


class TestCreateForOwnerAtMostOnce:
    """Docs takes no id on create-for-owner and, with its mail server down, creates the document
    and then answers 500 (reference §9): a create is repeated only once it is known it did nothing."""

    TITLE = "Synthèse — Minutes"

    def attempt(self, world: World, journal: MemoryJournal, *, as_user: bool) -> object:
        token = world.docs.token_for(world.alice) if as_user else None
        with DocsClient(
            world.docs.url, user_token=token, server_token="server-api-token", sleep=world.sleeps.append
        ) as client:
            try:
                return create_owner_note(
                    client, title=self.TITLE, markdown=MARKDOWN, sub="alice-sub", email="alice@example.org",
                    journal=journal,
                )  # fmt: skip
            except Exception as error:  # each attempt's outcome, as a job would see it
                return error

    def owned_notes(self, world: World) -> list[str]:
        return [d.id for d in world.docs.iter_documents() if d.title == self.TITLE]

    @pytest.mark.parametrize("as_user", [True, False])
    def test_500_after_create_three_times_in_a_row_leaves_one_document(self, world: World, as_user: bool) -> None:
        world.docs.configure(mail_server_available=False)
        journal = MemoryJournal()
        outcomes = [self.attempt(world, journal, as_user=as_user) for _ in range(3)]

        assert len(self.owned_notes(world)) == 1
        assert len(world.docs.requests_to(r"create-for-owner/$", "POST")) == 1, "never sent again"
        (document_id,) = self.owned_notes(world)
        if as_user:
            # With the user's token, the lost answer is found among their documents.
            first, *later = outcomes
            assert getattr(first, "document_id", None) == document_id and first.outcome is NoteOutcome.CREATED
            assert all(o.document_id == document_id and o.outcome is NoteOutcome.ALREADY_DONE for o in later)
        else:
            # Without it nobody can check: every attempt fails clearly, none sends again.
            assert all(isinstance(o, DocsNoteOutcomeUnknown) for o in outcomes)
            assert "alice@example.org" in outcomes[0].message and self.TITLE in outcomes[0].message
            assert not outcomes[0].retryable

    def test_a_500_before_anything_was_created_is_retried(self, world: World) -> None:
        # The answer is lost, but the user's documents show nothing new: sending again is safe.
        world.docs.fail_next(r"create-for-owner/$", kind="status", status=502)
        journal = MemoryJournal()
        first = self.attempt(world, journal, as_user=True)
        assert isinstance(first, DocsUnavailable) and first.retryable
        assert self.owned_notes(world) == []
        second = self.attempt(world, journal, as_user=True)
        assert second.outcome is NoteOutcome.CREATED
        assert self.owned_notes(world) == [second.document_id]
        assert journal.begun == 1, "the first snapshot of the user's documents stays the baseline"

    def test_a_refused_create_is_forgotten(self, world: World) -> None:
        world.docs.fail_next(r"create-for-owner/$", kind="status", status=429, headers=[("Retry-After", "60")])
        journal = MemoryJournal()
        first = self.attempt(world, journal, as_user=False)
        assert isinstance(first, DocsRateLimited) and journal.pending() is None
        second = self.attempt(world, journal, as_user=False)
        assert second.outcome is NoteOutcome.CREATED
        assert len(self.owned_notes(world)) == 1

    def test_a_worker_killed_after_recording_the_send(self, world: World) -> None:
        # begin() is durable before the request; a crash right after leaves only the journal.
        journal = MemoryJournal()
        journal.begin(PendingCreate(known_before=frozenset()))
        outcome = self.attempt(world, journal, as_user=True)
        assert outcome.outcome is NoteOutcome.CREATED, "nothing new was found: the create had not happened"
        journal = MemoryJournal()
        journal.begin(PendingCreate(known_before=None))
        refused = self.attempt(world, journal, as_user=False)
        assert isinstance(refused, DocsNoteOutcomeUnknown)
        assert len(self.owned_notes(world)) == 1

    def test_two_new_documents_with_the_title_are_not_guessed_between(self, world: World) -> None:
        journal = MemoryJournal()
        journal.begin(PendingCreate(known_before=frozenset()))
        for _ in range(2):
            world.docs.add_document(self.TITLE, owner=world.alice).creator_id = world.alice.id
        outcome = self.attempt(world, journal, as_user=True)
        assert isinstance(outcome, DocsNoteOutcomeUnknown)
        assert not world.docs.requests_to(r"create-for-owner/$")
