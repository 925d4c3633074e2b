"""Runs one action for a claimed job."""

from __future__ import annotations

from suite_ai.pipeline import notes, transform
from suite_ai.pipeline.actions import ACTIONS
from suite_ai.pipeline.context import ActionOutcome, JobCancelled, JobContext, JobFailure


def execute(context: JobContext) -> ActionOutcome:
    action = ACTIONS.get(context.action)
    if action is None:
        raise JobFailure("unknown_action", f"The action {context.action!r} no longer exists.")
    if context.should_cancel():
        raise JobCancelled()
    if action.writes_note:
        return notes.run(context, action)
    return transform.run(context, action)
