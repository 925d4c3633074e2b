"""Writing a note into Docs exactly once.

The note is a new **child document** of the source: it inherits the parent's accesses, so it is
shared with exactly the people who can read the source, and nobody has it open yet, so a REST
write cannot be lost to a browser's next save (see DESIGN).

Exactly once comes from a client-chosen id. The caller fixes a UUID v4 for the note on the job
before the first attempt and passes the same id on every retry. Docs refuses a second create with
that id (400 ``{"id": ["A document with this ID already exists. You cannot override it."]}``), and
the procedure then checks that the existing document is *our* note (a direct child of the expected
parent that the user may update) before it completes it, so a retry after any crash ends with one
note, and never writes into somebody else's document.

Three modes, chosen by configuration (``NoteMode``):

``child`` (default)
    ``POST children/ {id, title}``, then the content (base64 Yjs, built by the caller with
    ``suite_ai.blocknote``) through the content API: ``PATCH content/`` on Docs >= 5; on Docs <=
    4.8 the content goes in the create itself (and a retry ``PATCH``es the document). External API
    actions needed: ``retrieve``, ``children``, ``content_retrieve``, ``content`` (<= 4.8:
    ``retrieve``, ``children``, ``partial_update``).
``child_upload``
    One multipart ``POST children/`` with ``id`` and a markdown ``file`` that Docs converts itself
    (needs ``CONVERSION_UPLOAD_ENABLED``). Docs makes the file name the title, so the note is
    titled ``"<title>.md"``. Works with Docs' default external API actions (``retrieve``,
    ``children``). The create carries the content, so it is exactly-once by id too.
``owner_root``
    ``create-for-owner`` with the server-to-server token: a new *root* document owned by the user
    (``sub`` + ``email``), from markdown. For jobs submitted without a user token. Not shared with
    the source's collaborators (it is not a child). Docs takes no id there and answers 500 *after*
    creating the document when its mail server is down (reference §9), so a create is sent again
    only once it is known that the earlier one created nothing: the caller keeps a journal
    (``CreateJournal``) written before the request; with the user's token the note is then looked
    for among the user's documents, and without one the job fails with
    ``docs_note_outcome_unknown`` rather than risk a second document.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from suite_ai.lasuite_docs.client import DocsClient, DocsDocument, as_base64_text
from suite_ai.lasuite_docs.errors import (
    DocsBadRequest,
    DocsError,
    DocsForbidden,
    DocsNotConfigured,
    DocsNoteConflict,
    DocsNoteIncomplete,
    DocsNoteOutcomeUnknown,
    DocsNotFound,
    DocsOutcomeUnknown,
    DocsUnavailable,
)
from suite_ai.lasuite_docs.version import ContentApi

DUPLICATE_ID_MESSAGE = "A document with this ID already exists"
MAX_FILENAME = 255


class NoteMode(StrEnum):
    CHILD = "child"
    CHILD_UPLOAD = "child_upload"
    OWNER_ROOT = "owner_root"


class NoteOutcome(StrEnum):
    CREATED = "created"  # this call created the note (with its content)
    COMPLETED = "completed"  # an earlier attempt created it empty; this call wrote the content
    ALREADY_DONE = "already_done"  # an earlier attempt finished it; nothing was written


@dataclass(frozen=True)
class NoteRef:
    document_id: str
    url: str
    outcome: NoteOutcome
    mode: NoteMode
    # The title as Docs keeps it (an upload's is its file name, ``.md`` included).
    title: str

    @property
    def created(self) -> bool:
        return self.outcome is NoteOutcome.CREATED


def new_note_id() -> str:
    """A note id for a job: a UUID v4, as Docs' collaboration server requires for a room."""
    return str(uuid.uuid4())


def check_note_id(note_id: str | uuid.UUID) -> str:
    try:
        value = uuid.UUID(str(note_id))
    except ValueError as error:
        raise ValueError(f"the note id {note_id!r} is not a UUID") from error
    if value.version != 4:
        raise ValueError("the note id must be a UUID v4 (Docs' collaboration rooms require it)")
    return str(value)


def is_duplicate_id(error: DocsBadRequest) -> bool:
    """Docs' answer to a create whose ``id`` is taken (``DocumentSerializer.validate_id``)."""
    errors = error.errors
    if not isinstance(errors, Mapping):
        return False
    messages = errors.get("id")
    items = messages if isinstance(messages, list) else [messages]
    return any(isinstance(item, str) and DUPLICATE_ID_MESSAGE in item for item in items)


def note_filename(title: str) -> str:
    """The upload's file name, which Docs makes the title: no path separators, ``.md`` ending."""
    name = re.sub(r"[\x00-\x1f/\\]+", " ", title).strip() or "Note"
    if not name.lower().endswith(".md"):
        name = name[: MAX_FILENAME - 3].rstrip() + ".md"
    return name[:MAX_FILENAME]


def verify_own_note(client: DocsClient, parent_id: str, note_id: str, *, need_update: bool = True) -> DocsDocument:
    """The existing document ``note_id`` is ours: a live direct child of ``parent_id`` that the user
    can read (and update, with ``need_update``). Anything else raises ``DocsNoteConflict``."""
    try:
        note = client.get_document(note_id)
    except (DocsForbidden, DocsNotFound):
        raise DocsNoteConflict(
            f"The note id {note_id} is already used by a document this user cannot access; nothing was written."
        ) from None
    parent = client.get_document(parent_id)
    if not note.is_child_of(parent):
        raise DocsNoteConflict(
            f"The note id {note_id} is already used by a document that is not a child of {parent_id}; "
            "nothing was written."
        )
    if note.deleted_at:
        raise DocsNoteConflict(f"The note {note_id} was deleted in Docs; nothing was written.")
    if need_update:
        ability = "partial_update" if note.has_content_field else "content_patch"
        if not note.can(ability):
            raise DocsNoteConflict(f"The note {note_id} exists but this user may not edit it; nothing was written.")
    return note


def ensure_child_note(
    client: DocsClient,
    parent_id: str,
    note_id: str,
    title: str,
    *,
    content: str | bytes | None = None,
) -> tuple[DocsDocument, bool]:
    """Step one: the child exists, whoever created it. Returns ``(document, created_now)``.
    ``content`` is only for Docs <= 4.8, whose create takes it."""
    note_id = check_note_id(note_id)
    try:
        return client.create_child(parent_id, title=title, document_id=note_id, content=content), True
    except DocsBadRequest as error:
        if not is_duplicate_id(error):
            raise
    return verify_own_note(client, parent_id, note_id), False


def write_child_note(
    client: DocsClient,
    parent_id: str,
    note_id: str,
    title: str,
    content: str | bytes,
    *,
    websocket: bool = False,
    overwrite: bool = False,
) -> NoteRef:
    """Create the note ``note_id`` under ``parent_id`` with ``content`` (base64 text of a full Yjs
    update, or its bytes), exactly once across retries.

    When the note already exists (an earlier attempt), its content is written only if it is still
    empty: content found there came from an earlier attempt or from a person who opened the note
    since, and is kept unless ``overwrite``. Once the note exists, a failure to fill it raises
    ``DocsNoteIncomplete``, which names it."""
    content_b64 = as_base64_text(content)
    api = client.content_api(parent_id)
    if api is ContentApi.LEGACY:
        note, created = ensure_child_note(client, parent_id, note_id, title, content=content_b64)
        if created:
            return _ref(client, note, NoteOutcome.CREATED, NoteMode.CHILD)
        if note.content and not overwrite:
            return _ref(client, note, NoteOutcome.ALREADY_DONE, NoteMode.CHILD)
        with _naming_incomplete(client, note):
            client.update_content(note.id, content_b64, websocket=websocket)
        return _ref(client, note, NoteOutcome.COMPLETED, NoteMode.CHILD)

    note, created = ensure_child_note(client, parent_id, note_id, title)
    with _naming_incomplete(client, note):
        if not created and not overwrite and not client.get_content(note.id).is_empty:
            return _ref(client, note, NoteOutcome.ALREADY_DONE, NoteMode.CHILD)
        client.update_content(note.id, content_b64, websocket=websocket)
    return _ref(client, note, NoteOutcome.CREATED if created else NoteOutcome.COMPLETED, NoteMode.CHILD)


@contextmanager
def _naming_incomplete(client: DocsClient, note: DocsDocument) -> Iterator[None]:
    """A Docs failure while filling an existing note becomes ``DocsNoteIncomplete``, naming it."""
    try:
        yield
    except DocsNoteIncomplete:
        raise
    except DocsError as error:
        raise DocsNoteIncomplete(error, document_id=note.id, url=client.document_url(note.id)) from error


def upload_child_note(client: DocsClient, parent_id: str, note_id: str, title: str, markdown: str) -> NoteRef:
    """The ``child_upload`` mode: Docs converts the markdown itself and titles the note with the
    file name, ``note_filename(title)`` (``.md`` included); ``NoteRef.title`` is Docs' title."""
    note_id = check_note_id(note_id)
    config = client.get_config()
    if not config.conversion_upload_enabled:
        raise DocsNotConfigured("This Docs does not accept uploads (CONVERSION_UPLOAD_ENABLED is off).")
    try:
        note = client.upload_child(
            parent_id,
            filename=note_filename(title),
            data=markdown.encode("utf-8"),
            content_type="text/markdown",
            document_id=note_id,
        )
    except DocsBadRequest as error:
        if not is_duplicate_id(error):
            raise
        note = verify_own_note(client, parent_id, note_id, need_update=False)
        return _ref(client, note, NoteOutcome.ALREADY_DONE, NoteMode.CHILD_UPLOAD)
    return _ref(client, note, NoteOutcome.CREATED, NoteMode.CHILD_UPLOAD)


@dataclass(frozen=True)
class PendingCreate:
    """A create-for-owner that was (or was about to be) sent. ``known_before``: the ids of the
    user's documents with the note's title just before the first send, or None when they could
    not be listed (no user token), in which case a lost answer can never be checked."""

    known_before: frozenset[str] | None


class CreateJournal(Protocol):
    """Where the caller keeps a pending create-for-owner across attempts (a job's checkpoints).
    ``begin`` must be durable before the request is sent."""

    def pending(self) -> PendingCreate | None: ...

    def begin(self, pending: PendingCreate) -> None: ...

    def abandon(self) -> None: ...


def create_owner_note(
    client: DocsClient,
    *,
    title: str,
    markdown: str,
    sub: str,
    email: str,
    journal: CreateJournal,
    language: str | None = None,
) -> NoteRef:
    """The ``owner_root`` mode (server-to-server token): a root document owned by the user, at most
    once. An earlier create whose answer was lost (Docs' 500 after committing, a timeout, a worker
    killed while it waited) is looked for before anything is sent again."""
    pending = journal.pending()
    if pending is not None:
        found = _find_created(client, title, email, pending)
        if found is not None:
            return _ref(client, found, NoteOutcome.ALREADY_DONE, NoteMode.OWNER_ROOT)
    else:
        pending = PendingCreate(known_before=_same_title(client, title))
        journal.begin(pending)
    try:
        document_id = client.create_for_owner(title=title, markdown=markdown, sub=sub, email=email, language=language)
    except DocsOutcomeUnknown:
        found = _find_created(client, title, email, pending)
        if found is None:  # Docs failed before creating anything: sending again is safe
            raise DocsUnavailable(
                "Docs failed to create the note (it answered an error and created nothing); it will be retried."
            ) from None
        return _ref(client, found, NoteOutcome.CREATED, NoteMode.OWNER_ROOT)
    except DocsError:
        journal.abandon()  # refused or never reached: nothing was created
        raise
    return NoteRef(document_id, client.document_url(document_id), NoteOutcome.CREATED, NoteMode.OWNER_ROOT, title)


def _same_title(client: DocsClient, title: str) -> frozenset[str] | None:
    """The ids of the user's documents titled exactly ``title``; None when they cannot be listed."""
    if not client.acts_as_user:
        return None
    try:
        return frozenset(document.id for document in client.find_my_documents(title) if document.title == title)
    except DocsError:
        return None


def _find_created(client: DocsClient, title: str, email: str, pending: PendingCreate) -> DocsDocument | None:
    """The document an earlier create made, None if it made none; raises
    ``DocsNoteOutcomeUnknown`` when that cannot be known."""
    now = _same_title(client, title) if pending.known_before is not None else None
    if pending.known_before is None or now is None:
        raise DocsNoteOutcomeUnknown(
            f'Docs may have created the note "{title}" for {email}: it answered an error (or nothing) after '
            "the request was sent, and without the user's own access token suite_ai cannot check. The request "
            "was not repeated, so that there are never two notes: look for it among that user's documents."
        )
    created = sorted(now - pending.known_before)
    if not created:
        return None
    if len(created) > 1:
        raise DocsNoteOutcomeUnknown(
            f'Several new documents titled "{title}" appeared in the user\'s Docs; suite_ai cannot tell which one '
            "is this note, and did not create another."
        )
    return client.get_document(created[0])


def write_note(
    client: DocsClient,
    mode: NoteMode | str,
    *,
    parent_id: str,
    note_id: str,
    title: str,
    content: str | bytes | None = None,
    markdown: str | None = None,
    owner_sub: str | None = None,
    owner_email: str | None = None,
    journal: CreateJournal | None = None,
    language: str | None = None,
) -> NoteRef:
    """One entry point for the configured mode. ``child`` needs ``content`` (Yjs), the two others
    ``markdown``; ``owner_root`` needs the owner's ``sub`` and ``email`` and a ``journal``."""
    mode = NoteMode(mode)
    if mode is NoteMode.CHILD:
        if content is None:
            raise ValueError("the child mode writes Yjs content: pass content")
        return write_child_note(client, parent_id, note_id, title, content)
    if markdown is None:
        raise ValueError(f"the {mode} mode sends markdown: pass markdown")
    if mode is NoteMode.CHILD_UPLOAD:
        return upload_child_note(client, parent_id, note_id, title, markdown)
    if not owner_sub or not owner_email or journal is None:
        raise ValueError("the owner_root mode needs the owner's sub and email, and a journal")
    return create_owner_note(
        client, title=title, markdown=markdown, sub=owner_sub, email=owner_email, journal=journal, language=language
    )


def _ref(client: DocsClient, note: DocsDocument, outcome: NoteOutcome, mode: NoteMode) -> NoteRef:
    return NoteRef(note.id, client.document_url(note.id), outcome, mode, note.title or "")
