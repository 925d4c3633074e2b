"""Runs one claimed job in a worker thread, with a database-backed context for the pipeline.

While the pipeline waits on the model the thread holds no database connection: every write
closes its connection at once (with Postgres' pool that returns it to the pool).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from suite_ai import error_reporting
from suite_ai.accounts.credentials import decrypt_credentials
from suite_ai.jobs import metrics, services, workers
from suite_ai.jobs.models import Job, JobCheckpoint, JobEvent, JobStatus, ModelCall
from suite_ai.pipeline import CallUsage, JobCancelled, JobFailure, execute, share_worker_threads
from suite_ai.retrying import backoff_delay

logger = logging.getLogger(__name__)


@contextmanager
def short_connection() -> Iterator[None]:
    """Use the database, then give the connection back before the next long wait."""
    try:
        yield
    finally:
        connection.close()


class RunningJobs:
    """The jobs running in this process. One daemon thread heartbeats them all and learns which
    ones their owner cancelled, so a check for cancellation costs no query. In a worker it also
    beats for the worker itself, idle or busy (``/health/ready`` reads it: see jobs.workers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._cancelled: set[str] = set()
        self._thread: threading.Thread | None = None
        self._worker: str | None = None

    def _ensure_thread(self) -> None:
        # Called with the lock held.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="suite-ai-heartbeat", daemon=True)
            self._thread.start()

    def add(self, job_id: str) -> None:
        with self._lock:
            self._running.add(job_id)
            self._ensure_thread()

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._running.discard(job_id)
            self._cancelled.discard(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    def beat_for_worker(self, name: str) -> None:
        """From now on the thread also keeps ``name``'s worker row fresh, with or without jobs."""
        with self._lock:
            self._worker = name
            self._ensure_thread()

    def stop_beating_for_worker(self) -> str | None:
        with self._lock:
            name, self._worker = self._worker, None
        return name

    def _loop(self) -> None:
        poll = min(1.0, settings.SUITE_AI_HEARTBEAT_INTERVAL)
        last_beat = float("-inf")
        while True:
            with self._lock:
                ids = list(self._running)
                worker = self._worker
            if time.monotonic() - last_beat >= settings.SUITE_AI_HEARTBEAT_INTERVAL:
                if self._beat(ids, worker):
                    last_beat = time.monotonic()
            elif ids:
                self._learn_cancellations(services.cancel_requested, ids)
            time.sleep(poll)

    def _beat(self, ids: list[str], worker: str | None) -> bool:
        """The running jobs' heartbeat, then the worker's, each on its own: a worker row that
        cannot be written (a table not migrated yet) must not stop the jobs' heartbeats, which the
        reconciler reads. False when the jobs' failed, to try again at the next poll."""
        done = not ids or self._learn_cancellations(services.heartbeat, ids)
        if worker:
            try:
                with short_connection():
                    workers.beat(worker)
            except Exception:
                logger.exception("worker heartbeat failed")
        return done

    def _learn_cancellations(self, query: Callable[[list[str]], set[str]], ids: list[str]) -> bool:
        try:
            with short_connection():
                cancelled = query(ids)
        except Exception:
            logger.exception("heartbeat failed")
            return False
        with self._lock:
            self._cancelled |= cancelled & self._running
        return True


RUNNING = RunningJobs()


def _worker_name(hostname: str | None) -> str:
    # Celery's node name (``celery@<host>``, a container's id in compose) and the PID: two workers
    # started by hand under one node name still beat on separate rows.
    return f"{hostname or 'worker'}:{os.getpid()}"


@worker_ready.connect
def _worker_started(sender: Any = None, **_: object) -> None:
    name = _worker_name(getattr(sender, "hostname", None))
    try:
        with short_connection():
            workers.started(name)
    except Exception:
        logger.exception("worker heartbeat: first beat failed (the heartbeat thread retries)")
    RUNNING.beat_for_worker(name)
    # Celery's threads pool: the jobs' parallel model calls run on its threads, not on more of their own.
    executor = getattr(getattr(sender, "pool", None), "executor", None)
    if isinstance(executor, Executor):
        share_worker_threads(executor)


@worker_shutdown.connect
def _worker_stopped(**_: object) -> None:
    # Deleted at once, so ready says "none" instead of "stale" after a clean shutdown.
    share_worker_threads(None)
    name = RUNNING.stop_beating_for_worker()
    if name is None:
        return
    try:
        with short_connection():
            workers.stopped(name)
    except Exception:
        logger.exception("worker heartbeat: could not remove this worker's row")


class DatabaseJobContext:
    """What the pipeline sees of a job (see ``suite_ai.pipeline.context.JobContext``)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.job_id = str(job.id)
        self.action = job.action
        self.options: dict[str, Any] = dict(job.options or {})
        self.input: dict[str, Any] | None = job.input
        self.document_id = str(job.document_id)
        self.note_id = str(job.note_id) if job.note_id else None
        self.owner_sub = job.owner.sub
        self.owner_email = job.owner.email
        self.credentials = decrypt_credentials(job.credentials) if job.credentials else None
        self.attempt = job.attempts
        self._lock = threading.Lock()
        self._pending_delta: list[str] = []
        self._last_flush = 0.0  # the first delta goes out at once: time to first token matters
        # What the job's stream last reported, from the row: a retry starts from there, not from 0.
        self._progress = (job.progress_done, job.progress_total)
        self._progress_lock = threading.Lock()
        self.interrupted = False  # a cancellation cut a streamed answer short
        # Model calls are written with the job's final state, in the same transaction.
        self._calls: list[CallUsage] = []

    # Streaming output is coalesced: one event per flush interval, not one row per token.
    def emit_delta(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._pending_delta.append(text)
            due = time.monotonic() - self._last_flush >= settings.SUITE_AI_EVENT_FLUSH_INTERVAL
        if due:
            self.flush()
        if RUNNING.is_cancelled(self.job_id):
            self.interrupted = True
            raise JobCancelled()

    def _take_delta(self) -> str:
        with self._lock:
            text = "".join(self._pending_delta)
            self._pending_delta.clear()
            self._last_flush = time.monotonic()
        return text

    def flush(self) -> None:
        text = self._take_delta()
        if text:
            with short_connection():
                services.emit(self.job_id, JobEvent.Kind.DELTA, {"text": text})

    def write_pending(self) -> None:
        """Write what is still buffered (last deltas, model calls); call inside the final transaction."""
        text = self._take_delta()
        if text:
            services.emit(self.job_id, JobEvent.Kind.DELTA, {"text": text})
        calls, self._calls = self._calls, []
        services.insert_rows(
            [
                ModelCall(
                    job_id=self.job.id,
                    owner_id=self.job.owner_id,
                    document_id=self.job.document_id,
                    stage=call.stage,
                    model=call.model,
                    prompt_tokens=call.prompt_tokens,
                    completion_tokens=call.completion_tokens,
                    latency_ms=call.latency_ms,
                    ttft_ms=call.ttft_ms,
                    attempts=call.attempts,
                )
                for call in calls
            ]
        )

    def set_progress(self, done: int, total: int) -> None:
        """Record and stream the progress, never backwards: not below what an earlier attempt
        reported (a retry counts its checkpointed calls again from 0), not out of order (map
        threads report concurrently), and not a smaller fraction when the total grows (the
        merge levels of a long document are only known once its map calls are done)."""
        # A one-call job's progress is its final state: recording 0/1 and 1/1 would cost two writes.
        if total <= 1:
            return
        with self._progress_lock:
            reported_done, reported_total = self._progress
            done = max(done, reported_done)
            total = max(total, reported_total, done)
            if (done, total) == self._progress or done * reported_total < reported_done * total:
                return
            self._progress = (done, total)
            # Written under the lock: two threads' writes must reach the stream in this order.
            with short_connection():
                Job.objects.filter(id=self.job_id).update(progress_done=done, progress_total=total)
                services.emit(self.job_id, JobEvent.Kind.PROGRESS, {"done": done, "total": total})

    def should_cancel(self) -> bool:
        return RUNNING.is_cancelled(self.job_id)

    def checkpoint_get(self, key: str) -> str | None:
        with short_connection():
            return JobCheckpoint.objects.filter(job_id=self.job_id, key=key).values_list("output", flat=True).first()

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None:
        with short_connection():
            JobCheckpoint.objects.get_or_create(
                job_id=self.job_id, key=key, defaults={"output": output, "usage": usage}
            )

    def checkpoint_delete(self, key: str) -> None:
        with short_connection():
            JobCheckpoint.objects.filter(job_id=self.job_id, key=key).delete()

    def record_call(self, call: CallUsage) -> None:
        self._calls.append(call)
        metrics.MODEL_TOKENS.labels(model=call.model, kind="prompt").inc(call.prompt_tokens)
        metrics.MODEL_TOKENS.labels(model=call.model, kind="completion").inc(call.completion_tokens)
        metrics.MODEL_CALLS.labels(model=call.model, outcome="ok").inc()


def retry_delay(attempt: int, hint: float | None, cap: float = 300.0) -> float:
    """Honour the peer's Retry-After; otherwise the engine's jittered exponential backoff."""
    if hint is not None:
        return max(0.0, hint)
    return backoff_delay(attempt - 1, cap=cap)


# A model that is down: retried for SUITE_AI_MODEL_RETRY_BUDGET seconds whatever the attempts,
# the others (a 429, an unreadable answer) SUITE_AI_MAX_ATTEMPTS times.
OUTAGE_CODES = frozenset({"model_unavailable", "model_timeout"})
# Between two attempts during an outage: at most this, so that a model back up is noticed soon.
OUTAGE_MAX_DELAY = 60.0


def next_attempt_in(job: Job, failure: JobFailure, now: datetime) -> float | None:
    """Seconds before the job's next attempt after ``failure``, or None when it must fail now."""
    if not failure.retryable:
        return None
    if failure.code in OUTAGE_CODES:
        remaining = settings.SUITE_AI_MODEL_RETRY_BUDGET - (now - job.created_at).total_seconds()
        if remaining <= 0:
            return None
        return min(retry_delay(job.attempts, failure.retry_after, cap=OUTAGE_MAX_DELAY), remaining)
    if job.attempts < settings.SUITE_AI_MAX_ATTEMPTS:
        return retry_delay(job.attempts, failure.retry_after)
    return None


def ledger_usage(context: DatabaseJobContext) -> dict[str, Any]:
    """What the job's model calls cost, every attempt, from its ledger (``ModelCall``): for a job
    that ends without a result (cancelled, failed). Call it in the final transaction, once this attempt's calls are
    written. A streamed answer cut short by a cancellation is counted in ``interrupted_calls``:
    the model reports a call's tokens only at its end."""
    calls = list(
        ModelCall.objects.filter(job_id=context.job.id)
        .order_by("id")
        .values_list("model", "prompt_tokens", "completion_tokens", "latency_ms")
    )
    prompt = sum(call[1] for call in calls)
    completion = sum(call[2] for call in calls)
    return {
        "engine": "model",
        "model": calls[-1][0] if calls else "",
        "models": sorted({call[0] for call in calls}),
        "calls": len(calls),
        "interrupted_calls": int(context.interrupted),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "model_time_ms": sum(call[3] for call in calls),
    }


@contextmanager
def final_transaction(context: DatabaseJobContext) -> Iterator[None]:
    """The job's last writes (buffered output, model calls, final state) in one transaction."""
    with short_connection(), transaction.atomic():
        context.write_pending()
        yield


def run(job_id: str, worker: str) -> str:
    """Claim and run a job; returns what happened (for logs and tests)."""
    close_old_connections()
    with short_connection():
        job = services.claim(job_id, worker)
        if job is not None:  # queued → running, on the job's stream too
            services.emit(job.id, JobEvent.Kind.STATUS, {"status": JobStatus.RUNNING, "attempt": job.attempts})
    if job is None:
        return "not_claimed"
    try:
        return _run_claimed(job, job_id)
    finally:
        _release_place(job)


def _release_place(job: Job) -> None:
    """The job stopped running: under the per-user cap, its owner's next deferred job may start."""
    if settings.SUITE_AI_MAX_RUNNING_PER_USER <= 0:
        return
    try:
        with short_connection():
            services.resume_deferred(job.owner_id)
    except Exception:
        # The reconciler re-delivers jobs queued too long: a deferred job waits longer, never forever.
        logger.exception("could not re-send the deferred jobs of job %s's owner", job.id)


def _run_claimed(job: Job, job_id: str) -> str:
    """The job's final state is written for this attempt only (``job.attempts``): if the reconciler
    took the job back meanwhile (heartbeats lost) and another worker runs it, that attempt's
    outcome is the one that counts."""
    RUNNING.add(job_id)
    context = DatabaseJobContext(job)
    try:
        outcome = execute(context)
        if RUNNING.is_cancelled(job_id):
            raise JobCancelled()
    except JobCancelled:
        with final_transaction(context):
            services.mark_cancelled(job, ledger_usage(context))
        return "cancelled"
    except JobFailure as failure:
        with final_transaction(context):
            delay = next_attempt_in(job, failure, timezone.now())
            if delay is not None:
                services.reschedule(job, delay, failure.code, attempt=job.attempts)
                return "rescheduled"
            services.fail(job, failure.code, failure.message, ledger_usage(context), attempt=job.attempts)
        return "failed"
    except Exception as error:
        # Never log the exception text itself: it may quote document content. Sentry, when
        # configured, gets the stack trace without it; the log line then is not a second report.
        notified = error_reporting.capture_exception(error)
        logger.error(
            "job %s crashed (%s)",
            job_id,
            type(error).__name__,
            exc_info=settings.DEBUG,
            extra=error_reporting.ALREADY_REPORTED if notified else None,
        )
        # Stored on the job, so in English like every job message (no request, no language here).
        message = "The job failed unexpectedly." + (" The team has been notified." if notified else "")
        with final_transaction(context):
            services.fail(job, "internal_error", message, attempt=job.attempts)
        return "failed"
    finally:
        RUNNING.remove(job_id)
    with final_transaction(context):
        services.succeed(job, outcome.result, outcome.usage, outcome.prompt_version)
    return "succeeded"
