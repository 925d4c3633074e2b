"""Checks a submission before a job exists: the action, its options, its input, the model, and
what Docs says of the caller's rights.

Everything knowable at submission is refused here with a stable code, so no job is created
for a request that could only fail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from suite_ai.pipeline.actions import ACTIONS, Action, model_configured
from suite_ai.pipeline.context import ActionRequestError, Caller
from suite_ai.pipeline.documents import authorize_submission
from suite_ai.pipeline.limits import input_tokens
from suite_ai.pipeline.sources import check_scope, validate_input


@dataclass(frozen=True)
class PreparedAction:
    action: str
    options: dict[str, Any]
    input: dict[str, Any] | None
    writes_note: bool
    credentials: str = ""
    input_tokens: int = 0  # what the model reads of the input sent (0: read from Docs by the worker)


def validate_options(action: Action, options: dict[str, Any]) -> dict[str, Any]:
    known = {option.name: option for option in action.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        names = {"action": action.name, "unknown": ", ".join(unknown), "known": ", ".join(known)}
        raise ActionRequestError(
            "unknown_option",
            (
                _("Unknown option(s) for %(action)s: %(unknown)s. Accepted: %(known)s.")
                if known
                else _("Unknown option(s) for %(action)s: %(unknown)s. This action takes no options.")
            )
            % names,
            options=unknown,
        )
    cleaned: dict[str, Any] = {}
    for option in action.options:
        value = options.get(option.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if option.required:
                raise ActionRequestError(
                    "missing_option",
                    _("The %(action)s action needs the option %(option)r.")
                    % {"action": action.name, "option": option.name},
                    option=option.name,
                )
            continue
        if not isinstance(value, option.type) or (option.type is int and isinstance(value, bool)):
            raise ActionRequestError(
                "invalid_option",
                _("The option %(option)r must be a %(type)s.")
                % {"option": option.name, "type": option.describe()["type"]},
                option=option.name,
            )
        if isinstance(value, str):
            value = value.strip()
        if option.choices and value not in option.choices:
            raise ActionRequestError(
                "invalid_option",
                _("The option %(option)r must be one of: %(choices)s.")
                % {"option": option.name, "choices": ", ".join(option.choices)},
                option=option.name,
            )
        if option.max_length and isinstance(value, str) and len(value) > option.max_length:
            raise ActionRequestError(
                "invalid_option",
                _("The option %(option)r is limited to %(limit)d characters.")
                % {"option": option.name, "limit": option.max_length},
                option=option.name,
            )
        cleaned[option.name] = value
    return cleaned


def prepare(
    *,
    user: Any,
    document_id: uuid.UUID,
    action: str,
    input: Any,
    options: dict[str, Any],
    caller: Caller,
) -> PreparedAction:
    spec = ACTIONS.get(action)
    if spec is None:
        raise ActionRequestError(
            "unknown_action",
            _("Unknown action %(action)r. Available: %(actions)s.") % {"action": action, "actions": ", ".join(ACTIONS)},
            actions=list(ACTIONS),
        )
    cleaned_options = validate_options(spec, options)
    cleaned_input = validate_input(input)
    check_scope(spec, cleaned_input)
    if spec.needs_model and not model_configured() and not spec.has_offline_engine:
        raise ActionRequestError(
            "model_not_configured",
            _(
                "The %(action)s action needs a language model: set MISTRAL_API_KEY "
                "(and MISTRAL_SERVER_URL for a Mistral-compatible gateway such as Albert API)."
            )
            % {"action": spec.name},
        )
    # Counted only where a model reads it: the offline engine has no token limit.
    tokens = input_tokens(cleaned_input) if cleaned_input is not None and model_configured() else 0
    credentials = authorize_submission(
        user=user, document_id=document_id, action=spec, has_input=cleaned_input is not None, caller=caller
    )
    return PreparedAction(
        action=spec.name,
        options=cleaned_options,
        input=cleaned_input,
        writes_note=spec.writes_note,
        credentials=credentials,
        input_tokens=tokens,
    )
