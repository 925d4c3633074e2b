"""Editor actions (summarize, rephrase, correct, translate, …): text in, markdown (and blocks) out."""

from __future__ import annotations

from suite_ai.llm.engine import Callbacks, Cancelled, LongInputEngine
from suite_ai.llm.errors import ModelError
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.blocks import result_blocks
from suite_ai.pipeline.context import ActionOutcome, JobCancelled, JobContext, JobFailure
from suite_ai.pipeline.model import (
    call_recorder,
    extractive_fallback_allowed,
    gateway,
    job_failure,
    limiter,
    model_configured,
    plan,
    usage_of,
)
from suite_ai.pipeline.sources import Source, load_source


def run(context: JobContext, action: Action) -> ActionOutcome:
    source = load_source(context.input)
    if not model_configured():
        if action.has_offline_engine:
            return extractive(context, source)
        raise JobFailure("model_not_configured", "No language model is configured (MISTRAL_API_KEY).")
    engine = LongInputEngine(
        gateway(),
        limiter(),
        store=context,
        callbacks=Callbacks(
            on_delta=context.emit_delta,
            on_call=call_recorder(context),
            on_progress=context.set_progress,
            should_cancel=context.should_cancel,
        ),
    )
    try:
        outcome = engine.run(action.name, source.segments, context.options, plan(action, context.attempt))
    except Cancelled:
        raise JobCancelled() from None
    except ModelError as error:
        if action.has_offline_engine and extractive_fallback_allowed(error):
            return extractive(context, source)
        raise job_failure(error) from None
    usage = usage_of(outcome.calls)
    usage.update(chunks=outcome.chunks, reused_calls=outcome.reused)
    return ActionOutcome(
        result={"markdown": outcome.text, "blocks": result_blocks(outcome.text)},
        usage=usage,
        prompt_version=outcome.prompt_version,
    )


def extractive(context: JobContext, source: Source) -> ActionOutcome:
    """The offline engine: the document's own most central sentences, labelled as such."""
    from suite_ai.llm.extractive import summarize

    summary = summarize(source.segments)
    context.emit_delta(summary)
    return ActionOutcome(
        result={"markdown": summary, "blocks": result_blocks(summary), "engine": "extractive"},
        usage={"engine": "extractive", "calls": 0, "prompt_tokens": 0, "completion_tokens": 0},
        prompt_version="extractive@textrank-1",
    )
