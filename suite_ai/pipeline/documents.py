"""La Suite Docs from the pipeline's side: who may act on a document, reading it, writing notes.

Docs enforces the rights: suite_ai forwards the caller's own access token to Docs' external API,
so it can never read or write more than the caller could in Docs itself.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from suite_ai.accounts.credentials import Credentials, encrypt_credentials
from suite_ai.accounts.oidc import ServiceCall, UserAccessToken
from suite_ai.lasuite_docs import DocsClient, DocsError, DocsUnavailable
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.context import JobContext, JobFailure
from suite_ai.pipeline.sources import Source, load_source

# Docs answers these statuses with these codes at submission; other failures go to the worker.
SUBMISSION_STATUS = {
    "docs_unauthorized": 401,
    "docs_forbidden": 403,
    "docs_collaboration_locked": 409,
    "docs_not_found": 404,
    "docs_bad_request": 400,
    "docs_not_configured": 400,
}
NOTE_MODES = ("child", "child_upload", "owner_root")
SUBMISSION_TIMEOUT = 5.0  # seconds: a slow Docs must not hold an API thread long


def _error(code: str, message: str, status: int = 400) -> Exception:
    from suite_ai.pipeline.requests import ActionRequestError

    return ActionRequestError(code, message, status)


def docs_client(user_token: str | None = None, *, timeout: float | None = None) -> DocsClient:
    return DocsClient(
        str(settings.DOCS_BASE_URL),
        user_token=user_token,
        server_token=settings.DOCS_SERVER_TO_SERVER_TOKEN,
        timeout=timeout or settings.DOCS_TIMEOUT,
        public_url=settings.DOCS_PUBLIC_URL,
    )


def note_mode() -> str:
    return str(settings.SUITE_AI_NOTE_MODE)


def authorize_submission(*, user: Any, document_id: uuid.UUID, action: Action, has_input: bool, auth: Any) -> str:
    """Check what can be checked before the job exists; return the encrypted credentials the
    worker needs to act on Docs as the caller ("" when it needs none)."""
    if not settings.DOCS_BASE_URL:
        if not has_input:
            raise _error(
                "missing_input",
                "No input was sent and no Docs instance is configured to read the document from: "
                'send {"input": {"markdown": ...}} or set DOCS_BASE_URL.',
            )
        if action.writes_note:
            raise _error("docs_not_configured", f"The {action.name} action writes a note into Docs: set DOCS_BASE_URL.")
        return ""
    if isinstance(auth, UserAccessToken):
        return _authorize_with_user_token(auth.token, document_id, action)
    needs_docs = action.writes_note or not has_input
    if not needs_docs:
        return ""
    if isinstance(auth, ServiceCall):
        # The Docs backend vouches for the user; it sends the content, and notes go to the user's
        # own space through create-for-owner (Docs' server-to-server API has no other write).
        if not has_input:
            raise _error("missing_input", "A service call must send the document's content as input.")
        if not settings.DOCS_SERVER_TO_SERVER_TOKEN:
            raise _error("docs_not_configured", "Notes for service calls need DOCS_SERVER_TO_SERVER_TOKEN.")
        if not user.email:
            raise _error("missing_on_behalf_of", "Notes for service calls need the user's email.")
        return ""
    raise _error(
        "docs_token_required",
        "Reading the document from Docs or writing a note there needs an OIDC access token from "
        "La Suite's identity provider, so that Docs checks your rights.",
        401,
    )


def _authorize_with_user_token(token: str, document_id: uuid.UUID, action: Action) -> str:
    try:
        with docs_client(token, timeout=SUBMISSION_TIMEOUT) as client:
            document = client.get_document(document_id)
    except DocsUnavailable:
        # Docs is down: the job is accepted and the worker checks the rights before any work.
        return encrypt_credentials(Credentials("oidc", token))
    except DocsError as error:
        raise _error(error.code, error.message, SUBMISSION_STATUS.get(error.code, 400)) from None
    if not document.can("retrieve"):
        raise _error("docs_forbidden", "You cannot read this document in Docs.", 403)
    if action.writes_note and note_mode() != "owner_root" and not document.can("children_create"):
        raise _error(
            "docs_forbidden",
            "You cannot create documents under this one in Docs: a note needs editor rights on it.",
            403,
        )
    return encrypt_credentials(Credentials("oidc", token))


def job_docs_client(context: JobContext) -> DocsClient:
    token = context.credentials.token if context.credentials is not None else None
    return docs_client(token)


def docs_failure(error: DocsError) -> JobFailure:
    return JobFailure(error.code, error.message, retryable=error.retryable, retry_after=error.retry_after)


def load_document(context: JobContext, client: DocsClient) -> tuple[Source, str]:
    """The source document and its title, read with the caller's rights (checked first)."""
    from suite_ai.pipeline.blocks import source_from_update

    try:
        document = client.get_document(context.document_id)
        if not document.can("retrieve"):
            raise JobFailure("docs_forbidden", "You can no longer read this document in Docs.")
        if context.input is not None:
            source = load_source(context.input)
        else:
            source = source_from_update(client.get_content(context.document_id).update_bytes())
    except DocsError as error:
        raise docs_failure(error) from None
    return source, document.title or ""
