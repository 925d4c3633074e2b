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
    the source's collaborators (it is not a child), and **not idempotent**: Docs takes no id there,
    so a crash between Docs' answer and the caller recording the id can leave a second document.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from suite_ai.lasuite_docs.client import DocsClient, DocsDocument, as_base64_text
from suite_ai.lasuite_docs.errors import (
    DocsBadRequest,
    DocsForbidden,
    DocsNotConfigured,
    DocsNoteConflict,
    DocsNotFound,
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
    since, and is kept unless ``overwrite``."""
    content_b64 = as_base64_text(content)
    api = client.content_api(parent_id)
    if api is ContentApi.LEGACY:
        note, created = ensure_child_note(client, parent_id, note_id, title, content=content_b64)
        if created:
            return _ref(client, note.id, NoteOutcome.CREATED, NoteMode.CHILD)
        if note.content and not overwrite:
            return _ref(client, note.id, NoteOutcome.ALREADY_DONE, NoteMode.CHILD)
        client.update_content(note.id, content_b64, websocket=websocket)
        return _ref(client, note.id, NoteOutcome.COMPLETED, NoteMode.CHILD)

    note, created = ensure_child_note(client, parent_id, note_id, title)
    if not created and not overwrite:
        current = client.get_content(note.id)
        if not current.is_empty:
            return _ref(client, note.id, NoteOutcome.ALREADY_DONE, NoteMode.CHILD)
    client.update_content(note.id, content_b64, websocket=websocket)
    return _ref(client, note.id, NoteOutcome.CREATED if created else NoteOutcome.COMPLETED, NoteMode.CHILD)


def upload_child_note(client: DocsClient, parent_id: str, note_id: str, title: str, markdown: str) -> NoteRef:
    """The ``child_upload`` mode: Docs converts the markdown itself; the title becomes
    ``note_filename(title)``."""
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
        return _ref(client, note.id, NoteOutcome.ALREADY_DONE, NoteMode.CHILD_UPLOAD)
    return _ref(client, note.id, NoteOutcome.CREATED, NoteMode.CHILD_UPLOAD)


def create_owner_note(
    client: DocsClient,
    *,
    title: str,
    markdown: str,
    sub: str,
    email: str,
    language: str | None = None,
    send_notification_email: bool | None = None,
) -> NoteRef:
    """The ``owner_root`` mode (server-to-server token): a root document owned by the user."""
    document_id = client.create_for_owner(
        title=title,
        markdown=markdown,
        sub=sub,
        email=email,
        language=language,
        send_notification_email=send_notification_email,
    )
    return _ref(client, document_id, NoteOutcome.CREATED, NoteMode.OWNER_ROOT)


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
    language: str | None = None,
) -> NoteRef:
    """One entry point for the configured mode. ``child`` needs ``content`` (Yjs), the two others
    ``markdown``; ``owner_root`` needs the owner's ``sub`` and ``email``."""
    mode = NoteMode(mode)
    if mode is NoteMode.CHILD:
        if content is None:
            raise ValueError("the child mode writes Yjs content: pass content")
        return write_child_note(client, parent_id, note_id, title, content)
    if markdown is None:
        raise ValueError(f"the {mode} mode sends markdown: pass markdown")
    if mode is NoteMode.CHILD_UPLOAD:
        return upload_child_note(client, parent_id, note_id, title, markdown)
    if not owner_sub or not owner_email:
        raise ValueError("the owner_root mode needs the owner's sub and email")
    return create_owner_note(
        client, title=title, markdown=markdown, sub=owner_sub, email=owner_email, language=language
    )


def _ref(client: DocsClient, document_id: str, outcome: NoteOutcome, mode: NoteMode) -> NoteRef:
    return NoteRef(document_id=document_id, url=client.document_url(document_id), outcome=outcome, mode=mode)
