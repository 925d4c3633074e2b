"""Health and metrics endpoints for the people who run the service."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from kombu import Connection
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from suite_ai.jobs import metrics as job_metrics
from suite_ai.jobs import workers
from suite_ai.jobs.models import Job


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Ready when the database and the broker answer and a worker beat recently: a web process
    alone accepts jobs that nothing runs. SUITE_AI_READY_NEEDS_WORKER=false keeps the worker's
    state in the answer without making it a condition (for a web tier whose readiness must not
    follow the workers)."""
    checks: dict[str, str] = {}
    body: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    try:
        with Connection(
            settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS, connect_timeout=2
        ) as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as error:
        checks["broker"] = f"error: {type(error).__name__}"
    try:
        worker = workers.state(settings.SUITE_AI_WORKER_STALE_AFTER)
        checks["worker"] = worker.state
        body["worker"] = worker.as_dict()
    except Exception as error:
        checks["worker"] = f"error: {type(error).__name__}"
    required = checks if settings.SUITE_AI_READY_NEEDS_WORKER else {k: v for k, v in checks.items() if k != "worker"}
    healthy = all(value == "ok" for value in required.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks, **body}, status=200 if healthy else 503
    )


class JobsByStatusCollector(Collector):
    """Current jobs by status and action, read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("suite_ai_jobs", "Jobs by status and action", labels=["status", "action"])
        rows = (
            Job.objects.order_by()
            .values("status", "action")
            .annotate(count=Count("id"))
            .values_list("status", "action", "count")
        )
        for job_status, action, count in rows:
            gauge.add_metric([job_status, action], count)
        yield gauge


def metrics(request: HttpRequest) -> HttpResponse:
    if (refusal := job_metrics.scrape_refusal(request)) is not None:
        return refusal
    output, content_type = job_metrics.exposition()
    jobs_registry = CollectorRegistry()
    jobs_registry.register(JobsByStatusCollector())
    return HttpResponse(output + generate_latest(jobs_registry), content_type=content_type)
