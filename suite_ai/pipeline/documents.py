"""La Suite Docs from the pipeline's side: who may act on a document, reading it, writing notes.

Docs enforces the rights: suite_ai forwards the caller's own access token to Docs' external API,
so it can never read or write more than the caller could in Docs itself. The Docs backend, calling
with a service token, sends the content itself; its notes go through create-for-owner.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from suite_ai.accounts import docs_session
from suite_ai.accounts.credentials import DOCS_SESSION, Credentials, encrypt_credentials
from suite_ai.lasuite_docs import DocsClient, DocsError, DocsUnavailable, NoteMode, RetryPolicy
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.blocks import source_from_update
from suite_ai.pipeline.context import ActionRequestError, Caller, CallerKind, JobContext, JobFailure, Source
from suite_ai.pipeline.sources import load_source

# What Docs' refusals become at submission: the same meaning, with suite_ai's status.
SUBMISSION_STATUS = {
    "docs_unauthorized": 401,
    "docs_forbidden": 403,
    "docs_collaboration_locked": 409,
    "docs_not_found": 404,
    "docs_rate_limited": 429,
    "docs_bad_request": 400,
    "docs_not_configured": 400,
}
SUBMISSION_TIMEOUT = 5.0  # seconds: a slow Docs must not hold an API thread long
# At submission nothing is slept through in a web thread: Docs' 429 goes back to the caller.
SUBMISSION_RETRY = RetryPolicy(max_attempts=2, max_inline_wait=0.0)


def docs_client(
    user_token: str | None = None, *, timeout: float | None = None, retry: RetryPolicy | None = None
) -> DocsClient:
    return DocsClient(
        str(settings.DOCS_BASE_URL),
        user_token=user_token,
        server_token=settings.DOCS_SERVER_TO_SERVER_TOKEN,
        timeout=timeout or settings.DOCS_TIMEOUT,
        retry=retry,
        public_url=settings.DOCS_PUBLIC_URL,
    )


def user_token(context: JobContext) -> str | None:
    """The user's access token, when the job acts on Docs as the user."""
    credentials = context.credentials
    return credentials.token if credentials is not None and credentials.kind == "oidc" else None


def user_session(context: JobContext) -> str | None:
    """The user's Docs session, when the job acts on Docs' /api/v1.0/ as the user."""
    credentials = context.credentials
    return credentials.token if credentials is not None and credentials.kind == DOCS_SESSION else None


def note_mode(context: JobContext) -> NoteMode:
    """The configured mode; without the user's token or session, create-for-owner is Docs' only write."""
    if user_token(context) is None and user_session(context) is None:
        return NoteMode.OWNER_ROOT
    return NoteMode(str(settings.SUITE_AI_NOTE_MODE))


def authorize_submission(*, user: Any, document_id: uuid.UUID, action: Action, has_input: bool, caller: Caller) -> str:
    """Check what can be checked before the job exists; return the encrypted credentials the
    worker needs to act on Docs as the caller ("" when it needs none)."""
    if not settings.DOCS_BASE_URL:
        if not has_input:
            raise ActionRequestError(
                "missing_input",
                _(
                    "No input was sent and no Docs instance is configured to read the document from: "
                    'send {"input": {"markdown": ...}} or set DOCS_BASE_URL.'
                ),
            )
        if action.writes_note:
            raise ActionRequestError(
                "docs_not_configured",
                _("The %(action)s action writes a note into Docs: set DOCS_BASE_URL.") % {"action": action.name},
            )
        return ""
    if caller.kind is CallerKind.DOCS_USER:
        return _authorize_with_user_token(caller.token, document_id, action)
    if caller.kind is CallerKind.DOCS_SESSION:
        credentials = _authorize_with_session(caller.token, document_id, action)
        # The session is kept (encrypted) only by a job that must use it: the text was sent and
        # no note is written, so the worker never calls Docs.
        return credentials if action.writes_note or not has_input else ""
    needs_docs = action.writes_note or not has_input
    if not needs_docs:
        return ""
    if caller.kind is CallerKind.SERVICE:
        # The Docs backend vouches for the user; it sends the content, and notes go to the user's
        # own space through create-for-owner (Docs' server-to-server API has no other write).
        if not has_input:
            raise ActionRequestError("missing_input", _("A service call must send the document's content as input."))
        if not settings.DOCS_SERVER_TO_SERVER_TOKEN:
            raise ActionRequestError(
                "docs_not_configured", _("Notes for service calls need DOCS_SERVER_TO_SERVER_TOKEN.")
            )
        if not user.email:
            raise ActionRequestError("missing_on_behalf_of", _("Notes for service calls need the user's email."))
        return ""
    raise ActionRequestError(
        "docs_token_required",
        _(
            "Reading the document from Docs or writing a note there needs an OIDC access token from "
            "La Suite's identity provider, so that Docs checks your rights."
        ),
        401,
    )


def _authorize_with_session(session: str, document_id: uuid.UUID, action: Action) -> str:
    """As with a token, through Docs' /api/v1.0/ with the session (cached a few seconds)."""
    return _authorize_as_user(Credentials(DOCS_SESSION, session), document_id, action)


def _authorize_with_user_token(token: str, document_id: uuid.UUID, action: Action) -> str:
    return _authorize_as_user(Credentials("oidc", token), document_id, action)


def _authorize_as_user(credentials: Credentials, document_id: uuid.UUID, action: Action) -> str:
    try:
        if credentials.kind == DOCS_SESSION:
            document = docs_session.document(credentials.token, document_id)
        else:
            with docs_client(credentials.token, timeout=SUBMISSION_TIMEOUT, retry=SUBMISSION_RETRY) as client:
                document = client.get_document(document_id)
    except DocsUnavailable:
        # Docs is down: the job is accepted and the worker checks the rights before any work.
        return encrypt_credentials(credentials)
    except DocsError as error:
        extra: dict[str, Any] = {"detail": error.message}
        if error.retry_after is not None:
            extra["retry_after"] = max(1, round(error.retry_after))
        status = SUBMISSION_STATUS.get(error.code, 400)
        raise ActionRequestError(error.code, _docs_refusal(error, extra.get("retry_after")), status, **extra) from None
    if not document.can("retrieve"):
        raise ActionRequestError("docs_forbidden", _("You cannot read this document in Docs."), 403)
    needs_child = action.writes_note and settings.SUITE_AI_NOTE_MODE != NoteMode.OWNER_ROOT
    if needs_child and not document.can("children_create"):
        raise ActionRequestError(
            "docs_forbidden",
            _("You cannot create documents under this one in Docs: a note needs editor rights on it."),
            403,
        )
    return encrypt_credentials(credentials)


def _docs_refusal(error: DocsError, retry_after: int | None) -> str:
    """What Docs' refusal means, in the request's language. ``suite_ai.lasuite_docs`` is a plain
    library with English messages that may quote Docs itself; its codes are stable, so they are
    translated here and its wording goes in the error's ``detail``."""
    if error.code == "docs_rate_limited" and retry_after is not None:
        return _("Docs is throttling these requests; try again in %(seconds)d s.") % {"seconds": retry_after}
    messages = {
        "docs_unauthorized": _("Docs refused your access token: sign in again to get a fresh one."),
        "docs_forbidden": _("Docs does not let you do this with this document."),
        "docs_collaboration_locked": _(
            "Docs refuses changes to this document while it is edited live; try again in a few minutes."
        ),
        "docs_not_found": _("Docs has no such document."),
        "docs_rate_limited": _("Docs is throttling these requests; try again shortly."),
        "docs_bad_request": _("Docs rejected the request."),
        "docs_not_configured": _("The connection to Docs is not fully configured."),
        "docs_bad_response": _("Docs answered something unexpected; try again shortly."),
    }
    return messages.get(error.code) or _("Docs refused the request.")


def job_docs_client(context: JobContext) -> DocsClient:
    session = user_session(context)
    if session is not None:
        return docs_session.session_client(session)
    return docs_client(user_token(context))


def docs_failure(error: DocsError) -> JobFailure:
    return JobFailure(error.code, error.message, retryable=error.retryable, retry_after=error.retry_after)


def load_document(context: JobContext, client: DocsClient) -> tuple[Source, str]:
    """The source and its title. With the user's token the rights are checked first, then the
    content comes from the input if any, else from Docs; a service call sends its content, and
    the title is then its first heading."""
    if not client.acts_as_user:
        if context.input is None:  # refused at submission; only a changed configuration gets here
            raise JobFailure("missing_input", "This job has neither input nor a user token to read the document.")
        source = load_source(context.input)
        return source, first_heading(source)
    try:
        document = client.get_document(context.document_id)
        if not document.can("retrieve"):
            raise JobFailure("docs_forbidden", "You can no longer read this document in Docs.")
        if context.input is not None:
            source = load_source(context.input)
        else:
            content = client.get_content(context.document_id)
            update = content.update_bytes()
            record_source_revision(context, content.etag, update)
            source = source_from_update(update)
    except DocsError as error:
        raise docs_failure(error) from None
    return source, document.title or ""


# The checkpoint that says which revision of the Docs document the job read (the audit record
# copies it): Docs' ETag, or the SHA-256 of the content when Docs gives none. The last read wins.
SOURCE_REVISION = "source_revision"


def record_source_revision(context: JobContext, etag: str | None, update: bytes) -> None:
    revision = etag or f"sha256:{hashlib.sha256(update).hexdigest()}"
    context.checkpoint_delete(SOURCE_REVISION)
    context.checkpoint_put(SOURCE_REVISION, revision, {})


def first_heading(source: Source) -> str:
    for segment in source.segments:
        text = segment.text.strip()
        if text.startswith("#"):
            return text.lstrip("#").strip()
    return ""
