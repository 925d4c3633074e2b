"""Prometheus metrics. With PROMETHEUS_MULTIPROC_DIR set, web and worker processes share them.

Metrics are never worth a failed request or a job stuck in ``running``: every failure of theirs
(a directory that cannot be created, a file that cannot be opened or grown) is logged once per
process and swallowed, and the process keeps counting in memory instead.

In multiprocess mode each process writes its own files in the directory, named by prometheus
client's ``process_identifier``: by default the PID alone, which collides when containers share
the directory on a volume (every container's processes have small PIDs, the first one 1), and
two processes writing one file lose each other's counts. Here the identifier is host name + PID:
a container's host name is its id, unique among the containers sharing the volume.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import socket
import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

_reported: set[str] = set()
_reported_lock = threading.Lock()


def _report_once(what: str, message: str, *args: object) -> None:
    """Log a metrics failure the first time it happens in this process (a broken directory would
    otherwise log on every request and every job)."""
    with _reported_lock:
        if what in _reported:
            return
        _reported.add(what)
    logger.warning(message, *args, exc_info=True)


def _host_label(hostname: str) -> str:
    # The identifier becomes part of a file name that prometheus_client splits on "_" (for gauges,
    # ``<type>_<mode>_<identifier>.db``): keep to letters, digits, dots and hyphens.
    return re.sub(r"[^A-Za-z0-9.-]", "-", hostname) or "host"


_HOST = _host_label(socket.gethostname())


def process_identifier() -> str:
    """Distinct for every process writing into the directory at the same time, across hosts.
    prometheus_client calls it on every update to notice a fork, so it stays cheap: the host
    name is read once (it does not change under a running process), the PID each time."""
    return f"{_HOST}-{os.getpid()}"


def guarded_value_class(multiprocess_class: Any) -> type:
    """A prometheus value class that never raises: a value whose file cannot be opened falls back
    to one kept in this process's memory, and a failed write is dropped; both are logged once."""

    class GuardedValue:
        _multiprocess = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            try:
                self._value: Any = multiprocess_class(*args, **kwargs)
            except Exception:
                _report_once(
                    "open",
                    "metrics: cannot open a file in %s=%s; this process counts in memory only",
                    MULTIPROC_DIR_ENV,
                    os.environ.get("PROMETHEUS_MULTIPROC_DIR"),
                )
                self._value = prometheus_values.MutexValue(*args, **kwargs)

        def inc(self, amount: float) -> None:
            try:
                self._value.inc(amount)
            except Exception:
                _report_once("write", "metrics: an update failed and was dropped")

        def set(self, value: float, timestamp: float | None = None) -> None:
            try:
                self._value.set(value, timestamp)
            except Exception:
                _report_once("write", "metrics: an update failed and was dropped")

        def set_exemplar(self, exemplar: Any) -> None:
            self._value.set_exemplar(exemplar)

        def get(self) -> float:
            try:
                return float(self._value.get())
            except Exception:
                _report_once("read", "metrics: a value could not be read")
                return 0.0

        def get_exemplar(self) -> Any:
            return self._value.get_exemplar()

    return GuardedValue


def multiprocess_dir() -> str | None:
    """The shared directory, created if missing (compose points it into a fresh volume); None
    when multiprocess mode is off or the directory cannot be made."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # read by prometheus_client too, hence not a setting
    if not directory:
        return None
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        _report_once("directory", "metrics: cannot create %s=%s", MULTIPROC_DIR_ENV, directory)
        return None
    return directory


def _configure() -> None:
    """Choose how values are stored before the first metric below is built (prometheus_client
    reads ``values.ValueClass`` when a metric or one of its labelled children is created)."""
    if multiprocess_dir() is None:
        prometheus_values.ValueClass = prometheus_values.MutexValue
        return
    multiprocess = prometheus_values.MultiProcessValue(process_identifier=process_identifier)
    prometheus_values.ValueClass = guarded_value_class(multiprocess)


_configure()

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


def exposition() -> tuple[bytes, str]:
    """The process metrics in Prometheus' text format: every process's, read from the shared
    directory in multiprocess mode, else this process's. A directory that cannot be read falls
    back to this process's own (logged once): a scrape is answered, with what is known."""
    directory = multiprocess_dir()
    if directory is not None:
        try:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        except Exception:
            _report_once("collect", "metrics: cannot read %s; /metrics shows this process only", directory)
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# --- Who may scrape -------------------------------------------------------------------------------
# The counts say who uses which action how much, and the job engine's state: not for the public.
# With SUITE_AI_METRICS_TOKEN, a scraper sends it (Prometheus: ``authorization: {credentials_file:
# …}``), compared in constant time. Without it, only a client on this machine (``make run``, a
# sidecar, a node exporter's scrape of localhost) with no proxy header: a reverse proxy on the same
# host connects from the loopback too, and says whom it relays in X-Forwarded-For / Forwarded.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _from_loopback(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR") or "").split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback and not any(request.META.get(header) for header in _PROXY_HEADERS)


def scrape_refusal(request: HttpRequest) -> JsonResponse | None:
    """Why ``request`` may not read the metrics (an error answer), or None when it may."""
    # Here, not at the top: this module is also loaded by processes where Django is not set up.
    from rest_framework import exceptions

    from suite_ai.api_errors import error_response

    token = settings.SUITE_AI_METRICS_TOKEN
    if not token:
        if _from_loopback(request):
            return None
        return error_response("permission_denied", str(exceptions.PermissionDenied.default_detail), 403)
    scheme, _space, credentials = str(request.META.get("HTTP_AUTHORIZATION") or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        refusal = error_response("not_authenticated", str(exceptions.NotAuthenticated.default_detail), 401)
    elif not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        refusal = error_response("authentication_failed", str(exceptions.AuthenticationFailed.default_detail), 401)
    else:
        return None
    refusal["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return refusal
