"""The model engine as the pipeline uses it: configured from Django settings, errors as job failures."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from django.conf import settings

from suite_ai.llm.chunking import Segment
from suite_ai.llm.config import LLMSettings
from suite_ai.llm.engine import Callbacks, Cancelled, LongInputEngine, Outcome, Plan, plan_for
from suite_ai.llm.errors import ModelError
from suite_ai.llm.gateway import ChatResult, Gateway, get_gateway
from suite_ai.llm.ratelimit import Limits, RateLimiter
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.context import CallUsage, JobCancelled, JobContext, JobFailure


def llm_settings() -> LLMSettings:
    return LLMSettings(
        api_key=settings.MISTRAL_API_KEY or "",
        server_url=settings.MISTRAL_SERVER_URL,
        model=str(settings.MISTRAL_MODEL),
        model_long=str(settings.MISTRAL_MODEL_LONG),
        context_tokens=settings.MISTRAL_CONTEXT_TOKENS or None,
        chunk_tokens=settings.SUITE_AI_CHUNK_TOKENS,
        max_input_tokens=settings.SUITE_AI_MAX_INPUT_TOKENS,
        map_concurrency=settings.SUITE_AI_MAP_CONCURRENCY,
        requests_per_minute=settings.SUITE_AI_MODEL_RPM,
        tokens_per_minute=settings.SUITE_AI_MODEL_TPM,
        redis_url=settings.REDIS_URL,
        timeout_s=settings.MISTRAL_TIMEOUT,
        extractive_fallback=settings.SUITE_AI_EXTRACTIVE_FALLBACK,
    )


def gateway() -> Gateway:
    return get_gateway(llm_settings())


def plan(action: Action, attempt: int) -> Plan:
    return plan_for(llm_settings(), action.name, attempt=attempt)


def job_failure(error: ModelError) -> JobFailure:
    return JobFailure(error.code, error.message, retryable=error.retryable, retry_after=error.retry_after)


def limiter() -> RateLimiter:
    config = llm_settings()
    return _limiter(config.limits(), config.redis_url)


@functools.cache
def _limiter(limits: Limits, redis_url: str | None) -> RateLimiter:
    return RateLimiter(limits, redis_url)


def extractive_fallback_allowed(error: ModelError) -> bool:
    """The operator may prefer an extractive summary to a failure while the model is down."""
    return settings.SUITE_AI_EXTRACTIVE_FALLBACK and error.code in {"model_unavailable", "model_timeout"}


def call_recorder(context: JobContext) -> Callable[[ChatResult, str], None]:
    def record(result: ChatResult, stage: str) -> None:
        context.record_call(
            CallUsage(
                model=result.model,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                latency_ms=result.latency_ms,
                ttft_ms=result.ttft_ms,
                stage=stage,
            )
        )

    return record


def usage_of(results: list[ChatResult], engine: str = "model") -> dict[str, object]:
    return {
        "engine": engine,
        "model": results[-1].model if results else "",
        "calls": len(results),
        "prompt_tokens": sum(r.prompt_tokens for r in results),
        "completion_tokens": sum(r.completion_tokens for r in results),
        "ttft_ms": results[-1].ttft_ms if results else None,
    }


class UseExtractive(Exception):
    """The model is down and the operator prefers an extractive result to a failure."""


def run_engine(
    context: JobContext, action: Action, segments: Sequence[Segment], *, allow_fallback: bool
) -> tuple[Outcome, dict[str, object]]:
    """Run the model engine for a job: deltas and progress to the job, calls to its usage ledger,
    cancellation at every call; model errors become job failures (or ``UseExtractive``)."""
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
        outcome = engine.run(action.name, segments, context.options, plan(action, context.attempt))
    except Cancelled:
        raise JobCancelled() from None
    except ModelError as error:
        if allow_fallback and extractive_fallback_allowed(error):
            raise UseExtractive() from None
        raise job_failure(error) from None
    usage = usage_of(outcome.calls)
    usage.update(chunks=outcome.chunks, reused_calls=outcome.reused)
    return outcome, usage
