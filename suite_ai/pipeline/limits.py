"""What the model would read of an input, counted offline at submission: an input over
SUITE_AI_MAX_INPUT_TOKENS is refused there (413), not accepted and failed by the worker, and the
count is what the job reserves of the caller's daily quota until its model calls are recorded."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from suite_ai.llm.tokens import approximate_tokens, count_tokens
from suite_ai.pipeline.context import ActionRequestError
from suite_ai.pipeline.sources import load_source


def input_tokens(job_input: dict[str, Any]) -> int:
    """The input's tokens as the engine counts them (each segment, plus the blank line between
    two): exact with the offline tokenizer when the input could be over the limit, otherwise the
    free estimate (a token is at least one byte, so an input of fewer bytes than the limit fits)."""
    segments = load_source(job_input).segments
    limit = settings.SUITE_AI_MAX_INPUT_TOKENS
    size = sum(len(segment.text.encode("utf-8", "surrogatepass")) + 2 for segment in segments)
    if size <= limit:
        return sum(approximate_tokens(segment.text) + 2 for segment in segments) - 2 if segments else 0
    tokens = sum(count_tokens(segment.text) + 2 for segment in segments) - 2
    if tokens > limit:
        raise ActionRequestError(
            "input_too_large",
            _("The input is about %(tokens)d tokens; the limit is %(limit)d.") % {"tokens": tokens, "limit": limit},
            413,
            tokens=tokens,
            limit_tokens=limit,
        )
    return tokens
