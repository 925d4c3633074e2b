"""Editor actions (summarize, rephrase, correct, translate, …): text in, blocks out, for the editor."""

from __future__ import annotations

from suite_ai.llm.prompts import build_prompt
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.context import ActionOutcome, JobContext, JobFailure
from suite_ai.pipeline.model import model_configured, model_for, stream, usage_of
from suite_ai.pipeline.sources import Source, load_source


def run(context: JobContext, action: Action) -> ActionOutcome:
    source = load_source(context.input)
    if not model_configured():
        if action.has_offline_engine:
            return extractive(context, source)
        raise JobFailure("model_not_configured", "No language model is configured (MISTRAL_API_KEY).")
    prompt = build_prompt(action.name, source.markdown, context.options)
    result = stream(context, prompt.messages, model=model_for(action), on_delta=context.emit_delta)
    return ActionOutcome(
        result={"markdown": result.text},
        usage=usage_of([result]),
        prompt_version=prompt.version,
    )


def extractive(context: JobContext, source: Source) -> ActionOutcome:
    from suite_ai.llm.extractive import summarize

    summary = summarize(source.markdown)
    context.emit_delta(summary)
    return ActionOutcome(result={"markdown": summary, "engine": "extractive"}, usage={"engine": "extractive"})
