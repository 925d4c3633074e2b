"""Prometheus metrics. With PROMETHEUS_MULTIPROC_DIR set, web and worker processes share them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

_WAIT_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)

JOBS_SUBMITTED = Counter("suite_ai_jobs_submitted", "Jobs accepted by the API", ["action"])
JOBS_FINISHED = Counter("suite_ai_jobs_finished", "Jobs that reached a final state", ["action", "status"])
JOBS_RESCHEDULED = Counter("suite_ai_jobs_rescheduled", "Jobs sent back to the queue", ["action", "reason"])
QUEUE_WAIT = Histogram(
    "suite_ai_job_queue_wait_seconds", "From submission to first claim", ["action"], buckets=_WAIT_BUCKETS
)
RUN_TIME = Histogram("suite_ai_job_run_seconds", "From claim to final state", ["action"], buckets=_RUN_BUCKETS)
MODEL_TOKENS = Counter("suite_ai_model_tokens", "Tokens billed by the model gateway", ["model", "kind"])
MODEL_CALLS = Counter("suite_ai_model_calls", "Model calls by outcome", ["model", "outcome"])
