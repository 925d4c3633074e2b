"""The model engine as the pipeline uses it: configured from Django settings, errors as job failures."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import Executor

from django.conf import settings

from suite_ai.llm import threads
from suite_ai.llm.chunking import Segment
from suite_ai.llm.config import LLMSettings
from suite_ai.llm.engine import Callbacks, Cancelled, LongInputEngine, Outcome, Plan, plan_for
from suite_ai.llm.errors import ModelError
from suite_ai.llm.gateway import Gateway, get_gateway
from suite_ai.llm.ratelimit import Limits, RateLimiter
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.context import JobCancelled, JobContext, JobFailure


def llm_settings() -> LLMSettings:
    """The model layer's settings, from the Django settings (read from the environment at start-up)."""
    return LLMSettings(
        api_key=settings.MISTRAL_API_KEY or "",
        server_url=settings.MISTRAL_SERVER_URL,
        model=str(settings.MISTRAL_MODEL),
        model_long=str(settings.MISTRAL_MODEL_LONG),
        action_models=settings.SUITE_AI_ACTION_MODELS,
        context_tokens=settings.MISTRAL_CONTEXT_TOKENS or None,
        context_tokens_by_model=settings.MISTRAL_CONTEXT_TOKENS_BY_MODEL,
        chunk_tokens=settings.SUITE_AI_CHUNK_TOKENS,
        max_input_tokens=settings.SUITE_AI_MAX_INPUT_TOKENS,
        map_concurrency=settings.SUITE_AI_MAP_CONCURRENCY,
        requests_per_minute=settings.SUITE_AI_MODEL_RPM,
        tokens_per_minute=settings.SUITE_AI_MODEL_TPM,
        limits_by_model={
            model: Limits(requests_per_minute=rpm, tokens_per_minute=tpm)
            for model, (rpm, tpm) in settings.SUITE_AI_MODEL_LIMITS.items()
        },
        redis_url=settings.REDIS_URL,
        timeout_s=settings.MISTRAL_TIMEOUT,
        lang=settings.SUITE_AI_PROMPT_LANG,
    )


def share_worker_threads(executor: Executor | None) -> None:
    """Run the parallel model calls of jobs on the worker's own thread pool, so that the worker
    holds no more threads than it was configured with (see ``llm.threads``); None: stop."""
    threads.share(executor)


def gateway() -> Gateway:
    return get_gateway(llm_settings())


def plan(action: Action, attempt: int) -> Plan:
    return plan_for(llm_settings(), action.name, attempt=attempt)


def job_failure(error: ModelError) -> JobFailure:
    return JobFailure(error.code, error.message, retryable=error.retryable, retry_after=error.retry_after)


def limiter() -> RateLimiter:
    config = llm_settings()
    return _limiter(config.limits(), config.redis_url, tuple(sorted(config.limits_by_model.items())))


@functools.cache
def _limiter(limits: Limits, redis_url: str | None, per_model: tuple[tuple[str, Limits], ...]) -> RateLimiter:
    # One limiter per configuration and process (its in-process log must be shared by every job).
    return RateLimiter(limits, redis_url, per_model=dict(per_model))


def extractive_fallback_allowed(error: ModelError) -> bool:
    """The operator may prefer an extractive summary to a failure while the model is down."""
    return settings.SUITE_AI_EXTRACTIVE_FALLBACK and error.code in {"model_unavailable", "model_timeout"}


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
            on_call=context.record_call,
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
    usage: dict[str, object] = {**outcome.usage.to_dict(), "chunks": outcome.chunks}
    return outcome, usage
