"""Authorization against Docs: a job on a document starts only if the caller may read it."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from suite_ai.pipeline.actions import Action


def _error(code: str, message: str, status: int = 400) -> Exception:
    from suite_ai.pipeline.requests import ActionRequestError

    return ActionRequestError(code, message, status)


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
            raise _error(
                "docs_not_configured",
                f"The {action.name} action writes a note into Docs: set DOCS_BASE_URL.",
            )
        return ""
    return ""
