"""The note as a child document, exactly once whatever fails, and shared through inheritance."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from suite_ai.lasuite_docs import (
    DocsClient,
    DocsForbidden,
    DocsNoteConflict,
    DocsNoteIncomplete,
    NoteMode,
    NoteOutcome,
    ensure_child_note,
    new_note_id,
    write_child_note,
    write_note,
)
from tests.fakes.docs_server import markdown_to_yjs
from tests.lasuite_docs.conftest import World

Client = Callable[..., DocsClient]
NOTE = markdown_to_yjs("# Synthèse\n\nDecisions: the budget.\n\n- ship it")
NOTE_TEXT = ["Synthèse", "Decisions: the budget.", "ship it"]


def children_posts(world: World) -> list[dict[str, object]]:
    return world.docs.requests_to(rf"/documents/{world.source.id}/children/$", "POST")


def content_patches(world: World, note_id: str) -> list[dict[str, object]]:
    return world.docs.requests_to(rf"/documents/{note_id}/content/$", "PATCH")


def test_a_note_is_a_child_with_its_content(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    client = client_for(world.alice)
    ref = write_child_note(client, world.source.id, note_id, "Synthèse", NOTE)

    assert ref.outcome is NoteOutcome.CREATED and ref.created and ref.mode is NoteMode.CHILD
    assert ref.document_id == note_id
    assert ref.url == f"{world.docs.url}/docs/{note_id}/"
    assert [child.id for child in world.docs.children(world.source)] == [note_id]
    note = world.docs.document(note_id)
    assert note.title == "Synthèse" and note.creator_id == world.alice.id
    assert world.docs.content(note) == NOTE  # stored as the base64 text we sent
    assert world.docs.text(note) == NOTE_TEXT
    assert [r["json"] for r in children_posts(world)] == [{"title": "Synthèse", "id": note_id}]
    assert len(content_patches(world, note_id)) == 1


def test_the_note_is_shared_by_inheritance(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert not [a for a in world.docs.accesses if a.document_id == note_id], "no access of its own"

    bob = client_for(world.bob)
    seen = bob.get_document(note_id)
    assert seen.user_role == "reader" and seen.can("retrieve") and not seen.can("content_patch")
    assert bob.get_content(note_id).content_b64 == NOTE

    with pytest.raises(DocsForbidden):
        client_for(world.carol).get_document(note_id)
    with pytest.raises(DocsForbidden):
        client_for(world.carol).get_content(note_id)


def test_retry_after_a_crash_between_create_and_content(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    # First attempt: the child is created, then the worker dies before writing the content.
    document, created = ensure_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse")
    assert created and document.id == note_id
    assert world.docs.content(note_id) is None

    # The retry (a new worker, a new client) finishes the same note.
    ref = write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert ref.outcome is NoteOutcome.COMPLETED
    assert [child.id for child in world.docs.children(world.source)] == [note_id]
    assert world.docs.text(note_id) == NOTE_TEXT
    assert [r["status"] for r in children_posts(world)] == [201, 400]


@pytest.mark.parametrize(
    ("kind", "expected_outcome", "statuses"),
    [
        ("status", NoteOutcome.CREATED, [500, 201]),  # 500 before Docs created anything
        ("status_after", NoteOutcome.COMPLETED, [500, 400]),  # created, then 500
        ("drop_after", NoteOutcome.COMPLETED, [201, 400]),  # 201 lost with the connection
    ],
)
def test_a_failed_create_is_retried_into_one_note(
    world: World, client_for: Client, kind: str, expected_outcome: NoteOutcome, statuses: list[int]
) -> None:
    world.docs.fail_next(r"/children/$", kind=kind, status=500, method="POST")
    note_id = new_note_id()
    ref = write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert ref.outcome is expected_outcome
    assert [child.id for child in world.docs.children(world.source)] == [note_id]
    assert world.docs.text(note_id) == NOTE_TEXT
    assert [r["status"] for r in children_posts(world)] == statuses
    assert len(world.sleeps) == 1, "one backoff between the two attempts"


def test_a_finished_note_is_not_rewritten(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    again = write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert again.outcome is NoteOutcome.ALREADY_DONE
    assert len(content_patches(world, note_id)) == 1
    assert len(world.docs.children(world.source)) == 1


def test_content_found_in_an_existing_note_is_kept(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    ensure_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse")
    edited = markdown_to_yjs("# Synthèse\n\nA colleague already wrote here")
    world.docs._store_content(world.docs.document(note_id), edited)

    ref = write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert ref.outcome is NoteOutcome.ALREADY_DONE
    assert world.docs.content(note_id) == edited
    assert not content_patches(world, note_id)


def test_an_id_taken_by_someone_elses_document_is_refused(world: World, client_for: Client) -> None:
    private = world.docs.add_document("Carol's diary", owner=world.carol, markdown="# Private")
    before = world.docs.content(private)
    with pytest.raises(DocsNoteConflict) as caught:
        write_child_note(client_for(world.alice), world.source.id, private.id, "Synthèse", NOTE)
    assert caught.value.code == "docs_note_conflict"
    assert "cannot access" in caught.value.message
    assert world.docs.content(private) == before
    assert not content_patches(world, private.id)
    assert world.docs.children(world.source) == []


def test_an_id_taken_by_a_document_elsewhere_in_the_users_tree_is_refused(world: World, client_for: Client) -> None:
    elsewhere = world.docs.add_document("Another project", owner=world.alice)  # empty, writable by alice
    nested_parent = world.docs.add_document("Section", parent=world.source)
    grandchild = world.docs.add_document("Deeper", parent=nested_parent)  # a descendant, not a child
    for taken in (elsewhere, grandchild):
        with pytest.raises(DocsNoteConflict, match="not a child"):
            write_child_note(client_for(world.alice), world.source.id, taken.id, "Synthèse", NOTE)
        assert world.docs.content(taken) is None
        assert not content_patches(world, taken.id)


def test_a_reader_cannot_write_a_note(world: World, client_for: Client) -> None:
    with pytest.raises(DocsForbidden):
        write_child_note(client_for(world.bob), world.source.id, new_note_id(), "Synthèse", NOTE)
    assert world.docs.children(world.source) == []


@pytest.mark.parametrize("who", ["alice", "dave"])
def test_a_note_deleted_since_the_first_attempt_is_refused(world: World, client_for: Client, who: str) -> None:
    note_id = new_note_id()
    ensure_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse")
    world.docs.soft_delete(note_id)  # somebody threw the empty note away before the retry
    with pytest.raises(DocsNoteConflict):
        write_child_note(client_for(getattr(world, who)), world.source.id, note_id, "Synthèse", NOTE)
    assert world.docs.content(note_id) is None
    assert not content_patches(world, note_id)


def test_the_note_id_must_be_a_uuid4(world: World, client_for: Client) -> None:
    with pytest.raises(ValueError, match="v4"):
        write_child_note(
            client_for(world.alice), world.source.id, "6fa459ea-ee8a-3ca4-894e-db77e160355e", "Synthèse", NOTE
        )
    with pytest.raises(ValueError, match="base64"):
        write_child_note(client_for(world.alice), world.source.id, new_note_id(), "Synthèse", "not base64!")
    assert not children_posts(world)


def test_an_editor_can_write_a_note_and_the_owner_reads_it(world: World, client_for: Client) -> None:
    note_id = new_note_id()
    write_child_note(client_for(world.dave), world.source.id, note_id, "Synthèse", NOTE)
    assert world.docs.document(note_id).creator_id == world.dave.id
    mine = client_for(world.alice).get_document(note_id)
    assert mine.user_role == "owner" and mine.can("destroy")


def test_write_note_dispatches_on_the_mode(world: World, client_for: Client) -> None:
    client = client_for(world.alice)
    note_id = new_note_id()
    ref = write_note(client, "child", parent_id=world.source.id, note_id=note_id, title="Synthèse", content=NOTE)
    assert ref.mode is NoteMode.CHILD and world.docs.text(note_id) == NOTE_TEXT
    with pytest.raises(ValueError, match="markdown"):
        write_note(client, "child_upload", parent_id=world.source.id, note_id=new_note_id(), title="x")
    with pytest.raises(ValueError):
        write_note(client, "somewhere", parent_id=world.source.id, note_id=new_note_id(), title="x")


def test_the_note_link_uses_the_public_url(world: World, client_for: Client) -> None:
    client = client_for(world.alice, public_url="https://docs.example.org/")
    ref = write_child_note(client, world.source.id, new_note_id(), "Synthèse", NOTE)
    assert ref.url == f"https://docs.example.org/docs/{ref.document_id}/"
    assert world.docs.children(world.source)[0].id == ref.document_id  # written through base_url


def test_docs_down_after_the_create_names_the_incomplete_note_and_a_retry_completes_it(
    world: World, client_for: Client
) -> None:
    note_id = new_note_id()
    world.docs.fail_next(rf"/documents/{note_id}/content/$", kind="status", status=502, times=3, method="PATCH")
    with pytest.raises(DocsNoteIncomplete) as caught:
        write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    error = caught.value
    assert error.document_id == note_id and error.url in error.message and "still empty" in error.message
    assert error.retryable and error.cause.code == "docs_unavailable"
    assert world.docs.content(note_id) is None, "the note exists, empty"

    # Docs is back: the next attempt reads the empty note (Accept that Docs' JSON renderer takes) and fills it.
    ref = write_child_note(client_for(world.alice), world.source.id, note_id, "Synthèse", NOTE)
    assert ref.outcome is NoteOutcome.COMPLETED
    assert world.docs.text(note_id) == NOTE_TEXT
    (read,) = [r for r in world.docs.requests_to(rf"/documents/{note_id}/content/$", "GET")]
    assert read["status"] == 200
