"""Editor actions (summarize, rephrase, correct, translate, …): text in, markdown (and blocks) out."""

from __future__ import annotations

from suite_ai.llm import extractive as extractive_engine
from suite_ai.llm.extractive import summarize
from suite_ai.pipeline.actions import Action, model_configured
from suite_ai.pipeline.blocks import result_blocks
from suite_ai.pipeline.context import ActionOutcome, JobContext, JobFailure, Source
from suite_ai.pipeline.documents import job_docs_client, load_document
from suite_ai.pipeline.model import UseExtractive, run_engine
from suite_ai.pipeline.sources import load_source


def run(context: JobContext, action: Action) -> ActionOutcome:
    source = _source(context)
    if not source.segments:
        raise JobFailure("empty_document", "The document is empty: there is nothing to work on.")
    if not model_configured():
        if action.has_offline_engine:
            return extractive(context, source)
        raise JobFailure("model_not_configured", "No language model is configured (MISTRAL_API_KEY).")
    try:
        outcome, usage = run_engine(context, action, source.segments, allow_fallback=action.has_offline_engine)
    except UseExtractive:
        return extractive(context, source)
    return ActionOutcome(
        result={"markdown": outcome.text, "blocks": result_blocks(outcome.text)},
        usage=usage,
        prompt_version=outcome.prompt_version,
    )


def _source(context: JobContext) -> Source:
    """What the editor sent, or, for a whole-document action sent without input, the document
    read from Docs with the caller's rights."""
    if context.input is not None:
        return load_source(context.input)
    with job_docs_client(context) as client:
        source, _title = load_document(context, client)
    return source


def extractive(context: JobContext, source: Source) -> ActionOutcome:
    """The offline engine: the document's own most central sentences, labelled as such."""
    summary = summarize(source.segments)
    context.emit_delta(summary)
    return ActionOutcome(
        result={"markdown": summary, "blocks": result_blocks(summary), "engine": "extractive"},
        usage={"engine": "extractive", "calls": 0, "prompt_tokens": 0, "completion_tokens": 0},
        prompt_version=extractive_engine.VERSION,
    )
