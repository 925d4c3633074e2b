"""The model engine as the pipeline uses it: configured from Django settings, errors as job failures."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from suite_ai.llm.errors import ModelError
from suite_ai.llm.gateway import ChatResult, Gateway, LLMSettings, Messages, get_gateway
from suite_ai.pipeline.actions import Action
from suite_ai.pipeline.context import CallUsage, JobContext, JobFailure


def model_configured() -> bool:
    return bool(settings.MISTRAL_API_KEY)


def llm_settings() -> LLMSettings:
    return LLMSettings(
        api_key=settings.MISTRAL_API_KEY or "",
        server_url=settings.MISTRAL_SERVER_URL,
        model=settings.MISTRAL_MODEL,
        model_long=settings.MISTRAL_MODEL_LONG,
        timeout_s=settings.MISTRAL_TIMEOUT,
    )


def gateway() -> Gateway:
    return get_gateway(llm_settings())


def model_for(action: Action) -> str:
    return settings.MISTRAL_MODEL_LONG if action.writes_note else settings.MISTRAL_MODEL


def job_failure(error: ModelError) -> JobFailure:
    return JobFailure(error.code, error.message, retryable=error.retryable, retry_after=error.retry_after)


def stream(
    context: JobContext, messages: Messages, *, model: str, stage: str = "single", on_delta: Callable[[str], None]
) -> ChatResult:
    """One streamed call, recorded in the job's usage ledger; errors become job failures."""
    try:
        result = gateway().stream_chat(messages, model=model, on_delta=on_delta)
    except ModelError as error:
        raise job_failure(error) from None
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
    return result


def usage_of(results: list[ChatResult], engine: str = "model") -> dict[str, object]:
    return {
        "engine": engine,
        "model": results[-1].model if results else "",
        "calls": len(results),
        "prompt_tokens": sum(r.prompt_tokens for r in results),
        "completion_tokens": sum(r.completion_tokens for r in results),
        "ttft_ms": results[-1].ttft_ms if results else None,
    }
