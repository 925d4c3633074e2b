"""Optional error reporting to Sentry, as in Docs: on only when ``SENTRY_DSN`` is set.

A report must never carry document text or a token (the same rule as the logs): request bodies,
cookies and headers other than a few harmless ones are dropped, exception messages are replaced
(an exception may quote the text it choked on), and stack frames carry no local variables. What
is left (exception types, stack traces, ids, codes, timings) is what an engineer needs.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

# Request headers a report keeps; everything else (Authorization, Cookie, the service calls'
# X-Suite-AI-User-*, proxies' forwarding headers) is dropped.
KEPT_HEADERS = frozenset(
    {"accept", "accept-language", "content-length", "content-type", "host", "origin", "user-agent", "x-request-id"}
)
REMOVED = "[removed]"
# ``logger.error(..., extra=ALREADY_REPORTED)``: the exception was captured with its stack trace
# already; the log line must not become a second, trace-less event.
ALREADY_REPORTED = {"sentry_already_reported": True}


def release() -> str | None:
    try:
        return f"suite-ai@{metadata.version('suite-ai')}"
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None


def init(dsn: str, *, environment: str | None = None) -> None:
    # Imported here: the SDK takes about 0.2 s to import, which a process without SENTRY_DSN never pays.
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release(),
        # Django and Celery only: the SDK's automatic ones include integrations for mistralai and
        # httpx that would wrap the model client suite_ai.llm tunes, and could record prompts.
        auto_enabling_integrations=False,
        # No tracing (traces_sample_rate unset): no spans to time, so none of the per-request wrappers.
        integrations=[
            DjangoIntegration(middleware_spans=False, signals_spans=False, cache_spans=False),
            CeleryIntegration(monitor_beat_tasks=False, propagate_traces=False),
        ],
        # No sentry-trace/baggage headers on calls to others (the identity provider, Docs).
        trace_propagation_targets=[],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
    )
    # Every scanner that reaches the service by its IP address logs one of these: not a bug.
    ignore_logger("django.security.DisallowedHost")


def enabled() -> bool:
    """True when reports are sent, so a message may say "the team has been notified"."""
    sdk = sys.modules.get("sentry_sdk")  # never imported: never initialised
    return sdk is not None and bool(sdk.get_client().is_active())


def capture_exception(error: BaseException) -> bool:
    """Report ``error`` (scrubbed by ``before_send``); True when a report was sent."""
    if not enabled():
        return False
    import sentry_sdk

    return sentry_sdk.capture_exception(error) is not None


def before_send(event: Any, hint: dict[str, Any]) -> Any:
    record = hint.get("log_record")
    if record is not None and getattr(record, "sentry_already_reported", False):
        return None
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS}
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = REMOVED
        _drop_frame_variables(exception.get("stacktrace"))
    for thread in (event.get("threads") or {}).get("values") or []:
        _drop_frame_variables(thread.get("stacktrace"))
    return event


def _drop_frame_variables(stacktrace: Any) -> None:
    # include_local_variables=False already keeps them out; this holds if someone turns it back on.
    for frame in (stacktrace or {}).get("frames") or []:
        frame.pop("vars", None)
