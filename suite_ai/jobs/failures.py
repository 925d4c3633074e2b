"""A failed job's error in the reader's language.

The worker stores what the pipeline raised: a stable ``code`` and an English message written where
the failure happened (the libraries under ``suite_ai.llm``, ``suite_ai.lasuite_docs`` and
``suite_ai.blocknote`` are plain Python, without Django's translations), often with specifics: the
HTTP status Docs answered, the address of a note. The job is read later, by whoever asks, in the
language they ask for, so the translation happens here, at read time, from the code: a reader in
English gets the worker's message as it is; a reader in another language gets this catalogue's
message for the code, and the worker's specifics as ``detail`` (technical English, as elsewhere in
the API). A code missing from the catalogue falls back to the worker's message
(``tests/jobs/test_failure_messages.py`` keeps the catalogue complete).
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SOURCE_LANGUAGE = "en"  # the language the worker writes its messages in

MESSAGES: dict[str, Promise] = {
    # The request, checked again by the worker.
    "unknown_action": _("This action no longer exists."),
    "unknown_option": _("An option of this action is not known."),
    "missing_option": _("A required option of this action is missing."),
    "invalid_option": _("An option of this action is not valid."),
    "missing_input": _("There is nothing to work on: the job has no input and cannot read the document."),
    "missing_on_behalf_of": _("A note for a service call needs the user's email."),
    "empty_input": _("The input holds no text."),
    "empty_document": _("The document is empty: there is nothing to work on."),
    "invalid_input": _("The input is not valid."),
    "input_too_large": _("The text is too long for the model."),
    "ydoc_too_large": _("The document is too large to be read."),
    "ydoc_too_complex": _("The document is too complex to be read safely (too deeply nested, or too many parts)."),
    "input_too_deep": _("The document's blocks are nested too deeply."),
    "invalid_text": _("The text holds characters that are not allowed (a NUL character or a broken one)."),
    # The document's content.
    "invalid_base64": _("The document's content could not be read (it is not base64)."),
    "invalid_yjs_update": _("The document's content could not be read (it is not a Yjs document)."),
    "missing_document_store": _("The document's content could not be read (it holds no BlockNote document)."),
    "invalid_blocks": _("The document's blocks are not valid BlockNote blocks."),
    "unknown_block_type": _("The document holds a block of a type the editor does not know."),
    "invalid_block_props": _("A block of the document has invalid properties."),
    "invalid_inline_content": _("A block of the document has invalid text content."),
    "duplicate_block_id": _("Two blocks of the document have the same id."),
    "unknown_block_id": _("A selected block is no longer in the document."),
    "invalid_edit": _("The change could not be applied to the document."),
    # The model.
    "model_not_configured": _("No language model is configured for this service."),
    "model_rate_limited": _("The model service is busy (rate limit reached). Try again in a moment."),
    "model_unavailable": _("The model service is unavailable. Try again later."),
    "model_timeout": _("The model did not answer in time. Try again later."),
    "model_bad_response": _("The model service sent an answer that could not be read."),
    "model_auth_failed": _("The model service refused this service's credentials."),
    "model_not_found": _("The model service does not know the configured model or address."),
    "model_bad_request": _("The model service refused the request."),
    # Docs.
    "docs_not_configured": _("This service is not connected to Docs."),
    "docs_token_required": _("Reading the document in Docs needs you to be signed in."),
    "docs_unauthorized": _("Docs refused your session: sign in again."),
    "docs_forbidden": _("Docs does not let you read this document, or create a note under it."),
    "docs_not_found": _("Docs has no such document."),
    "docs_collaboration_locked": _("Docs refuses changes while the document is being edited live."),
    "docs_rate_limited": _("Docs is throttling requests. Try again in a moment."),
    "docs_bad_request": _("Docs refused the request."),
    "docs_bad_response": _("Docs sent an answer that could not be read."),
    "docs_unavailable": _("Docs could not be reached. Try again later."),
    "docs_outcome_unknown": _("Docs did not confirm a change; it was not repeated, to avoid doing it twice."),
    "docs_note_outcome_unknown": _(
        "Docs did not confirm the note's creation; it was not repeated, to avoid a duplicate note. "
        "Look for it among your documents."
    ),
    "docs_note_conflict": _("The note's id is already taken in Docs by another document; nothing was written."),
    "docs_note_incomplete": _("The note was created in Docs but its content could not be written."),
    # The engine.
    "worker_lost": _("The job was interrupted too many times and was stopped."),
    "job_timeout": _("The job took too long and was stopped."),
    "internal_error": _("Internal error: the job could not be completed."),
}


def describe(code: str, message: str) -> dict[str, Any]:
    """A failed job's ``error`` for a reader in the active language."""
    language = translation.get_language() or SOURCE_LANGUAGE
    localized = MESSAGES.get(code)
    if localized is None or language.split("-")[0] == SOURCE_LANGUAGE:
        return {"code": code, "message": message}
    return {"code": code, "message": str(localized), "detail": message}


def localize_event(data: str) -> str:
    """A ``failed`` event's JSON data, its ``error`` described for the active language."""
    if (translation.get_language() or SOURCE_LANGUAGE).split("-")[0] == SOURCE_LANGUAGE:
        return data
    payload = json.loads(data)
    error = payload.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        payload["error"] = describe(error["code"], str(error.get("message", "")))
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
