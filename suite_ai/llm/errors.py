"""Model errors, classified into stable codes the user sees and the job engine acts on.

Every failure of a model call becomes one ``ModelError(code, message, retryable, retry_after)``.
The engine never sleeps to retry: a retryable error goes back to the caller (a Celery task),
which re-schedules itself after ``retry_delay(error, attempt)`` seconds, up to its own bound.

| code                  | when                                                        | retryable |
|-----------------------|-------------------------------------------------------------|-----------|
| model_rate_limited    | HTTP 429, or our shared limiter says wait                   | yes (Retry-After honoured) |
| model_unavailable     | 5xx, connection refused/reset, a stream cut or truncated    | yes |
| model_timeout         | no byte within the timeout, 408, 504                        | yes |
| model_bad_response    | a 2xx we cannot read (invalid JSON, wrong schema)           | yes |
| input_too_large       | the model's context-length error, 413, or our hard limit    | no  |
| model_auth_failed     | 401, 403                                                    | no  |
| model_not_found       | 404: unknown model or wrong server URL (no ``/v1`` suffix)  | no  |
| model_bad_request     | any other 4xx (including 422)                               | no  |

Messages are for people and never quote the document or the provider's raw body.
"""

from __future__ import annotations

import random

from suite_ai.retrying import backoff_delay, parse_retry_after

RATE_LIMITED = "model_rate_limited"
UNAVAILABLE = "model_unavailable"
TIMEOUT = "model_timeout"
BAD_RESPONSE = "model_bad_response"
INPUT_TOO_LARGE = "input_too_large"
AUTH_FAILED = "model_auth_failed"
NOT_FOUND = "model_not_found"
BAD_REQUEST = "model_bad_request"

# How gateways word a context-length refusal (Mistral, vLLM, Albert/OpenAI-compatible).
_CONTEXT_LENGTH_HINTS = (
    "context length",
    "context_length",
    "context window",
    "too large for model",
    "too many tokens",
    "prompt is too long",
    "maximum context",
    "input is too long",
)


class ModelError(Exception):
    """``retryable`` errors are re-scheduled by the caller after ``retry_after`` seconds (when the
    gateway said so) or a backoff; the others fail the job with ``code`` and ``message``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"ModelError({self.code!r}, retryable={self.retryable}, retry_after={self.retry_after}, "
            f"status={self.status})"
        )


class Cancelled(Exception):
    """The caller asked to stop (``should_cancel()`` returned true); no further call is made."""


# --- retry hints (``parse_retry_after`` and ``backoff_delay`` come from ``suite_ai.retrying``) -------


def retry_delay(
    error: ModelError, attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None
) -> float | None:
    """Seconds before re-scheduling after ``error`` on retry number ``attempt`` (0-based), or None
    when the error is not worth retrying. A ``Retry-After`` is a floor: it is honoured, plus a little
    jitter (up to 10 %, at most 1 s) so that jobs throttled together do not come back together."""
    if not error.retryable:
        return None
    if error.retry_after is not None:
        return error.retry_after + (rng or random).uniform(0, min(1.0, 0.1 * error.retry_after + 0.05))
    return backoff_delay(attempt, base=base, cap=cap, rng=rng)


# --- classification ------------------------------------------------------------------------------


def classify_status(
    status: int, retry_after: str | None = None, body: str = "", *, retry_after_ms: str | None = None
) -> ModelError:
    """The error for an HTTP status the gateway answered (``body``: its raw text, never shown)."""
    if 200 <= status < 300:  # a success status with a body the SDK could not read
        return ModelError(
            BAD_RESPONSE, "The model service sent a response we could not read.", retryable=True, status=status
        )
    if status == 429:
        wait = parse_retry_after(retry_after)
        if wait is None and retry_after_ms:
            try:
                wait = max(0.0, float(retry_after_ms) / 1000)
            except ValueError:
                wait = None
        return ModelError(
            RATE_LIMITED,
            "The model service is busy (rate limit reached); the job will resume automatically.",
            retryable=True,
            retry_after=wait,
            status=status,
        )
    if status in (401, 403):
        return ModelError(
            AUTH_FAILED, "The model service refused our credentials (check MISTRAL_API_KEY).", status=status
        )
    lowered = body.lower()
    if status == 413 or (status in (400, 422) and any(hint in lowered for hint in _CONTEXT_LENGTH_HINTS)):
        return ModelError(INPUT_TOO_LARGE, "The text is too long for the model.", status=status)
    if status == 404:
        return ModelError(
            NOT_FOUND,
            "The model service does not know this model or address (check MISTRAL_MODEL, and that "
            "MISTRAL_SERVER_URL does not end with /v1).",
            status=status,
        )
    if status in (408, 504):
        return ModelError(TIMEOUT, "The model did not answer in time.", retryable=True, status=status)
    if status >= 500 or status in (409, 425):
        return ModelError(UNAVAILABLE, f"The model service failed (HTTP {status}).", retryable=True, status=status)
    return ModelError(BAD_REQUEST, f"The model service refused the request (HTTP {status}).", status=status)


def classify_exception(error: BaseException) -> ModelError:
    """Any exception out of the mistralai SDK or httpx2, as a ModelError."""
    import httpx2
    from mistralai.client import errors

    if isinstance(error, ModelError):
        return error
    if isinstance(error, errors.SDKError):
        headers = error.headers
        return classify_status(
            error.status_code,
            headers.get("retry-after") if headers is not None else None,
            error.body or "",
            retry_after_ms=headers.get("retry-after-ms") if headers is not None else None,
        )
    if isinstance(error, errors.HTTPValidationError):  # 422 with a detail list
        return classify_status(422, None, str(error))
    if isinstance(error, errors.NoResponseError):
        return ModelError(UNAVAILABLE, "The model service sent no response.", retryable=True)
    if isinstance(error, errors.MistralError):  # ResponseValidationError and friends
        return ModelError(BAD_RESPONSE, "The model service sent a response we could not read.", retryable=True)
    if isinstance(error, httpx2.TimeoutException):
        return ModelError(TIMEOUT, "The model did not answer in time.", retryable=True)
    if isinstance(error, httpx2.HTTPError | OSError):
        return ModelError(UNAVAILABLE, "The model service could not be reached.", retryable=True)
    if isinstance(error, ValueError):  # a JSON/SSE frame the SDK could not decode
        return ModelError(BAD_RESPONSE, "The model service sent a response we could not read.", retryable=True)
    return ModelError(UNAVAILABLE, "The model call failed unexpectedly.", retryable=True)
