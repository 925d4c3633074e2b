"""The job state machine. Every transition is one conditional UPDATE, so it is atomic and a job
is claimed by exactly one worker, on SQLite as on Postgres."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from suite_ai import prebuilt_sql
from suite_ai.accounts.models import User
from suite_ai.audit import services as audit
from suite_ai.jobs import metrics, notify
from suite_ai.jobs.models import FINISHED_STATUSES, TRANSITIONS, Job, JobEvent, JobStatus, ModelCall

logger = logging.getLogger(__name__)


class InvalidTransition(Exception):
    """The job was not in a state from which the requested transition is allowed."""


class IdempotencyConflict(Exception):
    """The idempotency key was already used by this owner for a different payload."""


class JobAlreadyFinished(Exception):
    pass


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current} → {target} is not allowed")


def _transition(
    job_id: uuid.UUID | str, expected: Iterable[str], target: str, *, attempt: int | None = None, **fields: Any
) -> bool:
    """Move a job from one of ``expected`` to ``target``; False if another actor moved it first
    (or, with ``attempt``, if the job has started another attempt since)."""
    expected = list(expected)
    for state in expected:
        check_transition(state, target)
    rows = Job.objects.filter(id=job_id, status__in=expected)
    if attempt is not None:
        rows = rows.filter(attempts=attempt)
    return rows.update(status=target, **fields) == 1


@functools.cache
def _event_sql(vendor: str) -> str:
    """Cached per database vendor, whose quoting it uses."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ("job_id", "kind", "data", "created_at"))
    return f"INSERT INTO {quote(JobEvent._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608 (names)


def emit(job_id: uuid.UUID | str, kind: str, data: dict[str, Any] | None = None) -> None:
    """Append an event to the job's stream: the row ``JobEvent.objects.create`` would write, as one
    prebuilt statement, because every job writes several and the ORM builds and compiles the
    query anew each time (measured in docs/performance.md); tests/jobs/test_services_sql.py
    proves the rows equal."""
    values = [
        JobEvent._meta.get_field("job").get_db_prep_value(job_id, connection),
        kind,
        JobEvent._meta.get_field("data").get_db_prep_value(data or {}, connection),
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_event_sql(connection.vendor), values)
    notify.event_written(job_id)  # the job's followers read it as soon as it is committed


def insert_rows(rows: Sequence[Model]) -> None:
    """INSERT new rows of one model (the worker's model calls, written in its final transaction)."""
    if rows:
        type(rows[0])._default_manager.bulk_create(rows)


# --- Submission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    owner: User
    document_id: uuid.UUID
    action: str
    options: dict[str, Any]
    input: dict[str, Any] | None
    idempotency_key: str | None = None
    needs_note: bool = False
    credentials: str = ""
    reserved_tokens: int = 0

    def payload_hash(self) -> str:
        payload = {
            "document_id": str(self.document_id),
            "action": self.action,
            "options": self.options,
            "input": self.input,
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def submit(submission: Submission) -> tuple[Job, bool]:
    """Create a queued job and enqueue it after commit; with an idempotency key, return the
    owner's existing job for the same payload (created=False) or raise IdempotencyConflict."""
    input_hash = submission.payload_hash()
    if submission.idempotency_key:
        existing = _existing_for_key(submission, input_hash)
        if existing is not None:
            return existing, False
    now = timezone.now()
    try:
        job = _insert_job(
            owner=submission.owner,
            document_id=submission.document_id,
            action=submission.action,
            options=submission.options,
            input=submission.input,
            input_hash=input_hash,
            idempotency_key=submission.idempotency_key or None,
            note_id=uuid.uuid4() if submission.needs_note else None,
            credentials=submission.credentials,
            reserved_tokens=submission.reserved_tokens,
            enqueued_at=now,
        )
    except IntegrityError:
        # Two requests with the same key raced; the loser answers with the winner's job.
        existing = _existing_for_key(submission, input_hash)
        if existing is None:
            raise
        return existing, False
    # Enqueued once the row is committed (at once, or when the caller's transaction commits), and
    # during a request once the request is over (see ``request_finished``).
    transaction.on_commit(lambda: _enqueue_after_request(job.id))
    metrics.JOBS_SUBMITTED.labels(action=job.action).inc()
    return job, True


def _insert_job(**fields: Any) -> Job:
    """One INSERT, committed on its own (``create`` opens no transaction for a model without
    parents), because a transaction would add a BEGIN and a COMMIT round trip to every submission.
    Inside a caller's transaction it runs in a savepoint, so that a lost idempotency race
    (IntegrityError) does not abort the caller's transaction."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return Job.objects.create(**fields)
    return Job.objects.create(**fields)


def _existing_for_key(submission: Submission, input_hash: str) -> Job | None:
    existing = Job.objects.filter(owner=submission.owner, idempotency_key=submission.idempotency_key).first()
    if existing is not None and existing.input_hash != input_hash:
        raise IdempotencyConflict()
    return existing


# The jobs submitted by the request a thread is serving: sent to the broker once that request is
# over and its database connection closed (Django's own ``request_finished`` receiver runs first).
# On SQLite, closing the last connection checkpoints the write-ahead log under an exclusive lock,
# with fsyncs, which also makes the accepted job durable against a power loss before the 202
# leaves: a worker woken before that (the embedded broker wakes it at once) would only wait for
# that lock in SQLite's busy handler, and would take the checkpoint away from the request.
_in_request = threading.local()


def _enqueue_after_request(job_id: uuid.UUID | str) -> None:
    pending: list[uuid.UUID | str] | None = getattr(_in_request, "jobs", None)
    if pending is None:
        enqueue(job_id)  # not in a request (a worker, a command, Docs' AI paths on the loop)
    else:
        pending.append(job_id)


def request_started(**_: Any) -> None:
    _send_pending()  # a request whose end was never signalled: its jobs go now, not never
    _in_request.jobs = []


def request_finished(**_: Any) -> None:
    _send_pending()


def _send_pending() -> None:
    pending: list[uuid.UUID | str] | None = getattr(_in_request, "jobs", None)
    _in_request.jobs = None
    for job_id in pending or ():
        enqueue(job_id)


def enqueue(job_id: uuid.UUID | str, countdown: float | None = None) -> bool:
    """Send the job's id to the broker; False when the broker cannot take it now (down, full).
    The job row is the truth: a queued job whose message never left is re-sent by the reconciler
    (``SUITE_AI_QUEUED_REDELIVERY_AFTER``), so a broker outage delays jobs and fails none, and
    a submission made during one is still accepted."""
    from suite_ai.jobs.tasks import run_job

    try:
        run_job.apply_async(args=[str(job_id)], countdown=countdown)
    except (KombuError, OSError) as error:
        # The class only: a broker error may quote its connection URL, credentials included.
        logger.warning("job %s not sent to the broker (%s): the reconciler will send it", job_id, type(error).__name__)
        return False
    return True


# --- Worker side ----------------------------------------------------------------------------------


@functools.cache
def _claim_sql(vendor: str, capped: bool = False) -> str:
    """The whole claim in one statement (Postgres and SQLite ≥ 3.35 both have UPDATE … RETURNING):
    the conditional UPDATE that makes the claim atomic also returns the claimed row and its
    owner, where the ORM would need two more queries, each compiled per job. ``capped`` adds the
    per-user cap: fewer than ``%s`` of the owner's jobs running (see ``claim``). Cached per
    database vendor, whose quoting it uses."""
    quote = connection.ops.quote_name
    user = quote(User._meta.db_table)
    table = quote(Job._meta.db_table)
    # Only names from the models are formatted in; every value is a parameter.
    owner = f"(SELECT {{}} FROM {user} WHERE {user}.{quote('id')} = {quote('owner_id')})"  # noqa: S608
    cap = (
        f" AND (SELECT COUNT(*) FROM {table} AS mine WHERE mine.{quote('owner_id')} = {table}.{quote('owner_id')}"  # noqa: S608
        f" AND mine.{quote('status')} = %s) < %s"
        if capped
        else ""
    )
    return (
        f"UPDATE {table} SET status = %s, started_at = %s, heartbeat_at = %s, worker = %s,"  # noqa: S608
        " attempts = attempts + 1, deferred = %s"
        " WHERE id = %s AND status = %s AND NOT cancel_requested AND (available_at IS NULL OR available_at <= %s)"
        f"{cap}"
        f" RETURNING {prebuilt_sql.columns(Job)}, {owner.format(quote('sub'))} AS owner_sub,"
        f" {owner.format(quote('email'))} AS owner_email"
    )


def claim(job_id: uuid.UUID | str, worker: str) -> Job | None:
    """queued → running for exactly one caller; None if the job is not claimable now. Under
    SUITE_AI_MAX_RUNNING_PER_USER, a job whose owner has that many running is left queued and
    marked deferred (see ``claim_capped``)."""
    check_transition(JobStatus.QUEUED, JobStatus.RUNNING)
    cap = settings.SUITE_AI_MAX_RUNNING_PER_USER
    if cap > 0:
        return claim_capped(job_id, worker, cap)
    return _claim(job_id, worker, None)


def _claim(job_id: uuid.UUID | str, worker: str, cap: int | None) -> Job | None:
    now = timezone.now()
    pk = Job._meta.pk
    assert pk is not None
    params: list[Any] = [
        JobStatus.RUNNING,
        now,
        now,
        worker[:255],
        False,
        pk.get_db_prep_value(job_id, connection),
        JobStatus.QUEUED,
        now,
    ]
    if cap is not None:
        params += [JobStatus.RUNNING, cap]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor, cap is not None), params)
        row = cursor.fetchone()
    if row is None:
        return None
    job = prebuilt_sql.from_row(Job, row)
    # The owner as far as a job needs it (the row's last two columns); any other field of it loads on first use.
    job.owner = User.from_db(connection.alias, ["id", "sub", "email"], [job.owner_id, *row[-2:]])
    if job.attempts == 1 and job.enqueued_at is not None:
        metrics.QUEUE_WAIT.labels(action=job.action).observe((now - job.enqueued_at).total_seconds())
    return job


@functools.cache
def _succeed_sql(vendor: str) -> str:
    """Every job ends with this UPDATE, the one ``_transition`` would run with ``attempt`` and
    ``progress_total = progress_done = Greatest(F("progress_total"), 1)``: built once, because the
    ORM builds and compiles it, JSON values and expressions included, for each job
    (docs/performance.md); tests/jobs/test_services_sql.py proves the rows equal. Cached per
    database vendor, whose quoting it uses."""
    quote = connection.ops.quote_name
    at_least_one = f"CASE WHEN {quote('progress_total')} > 1 THEN {quote('progress_total')} ELSE 1 END"
    assignments = ", ".join(
        [f"{quote(column)} = %s" for column in ("status", "result", "usage", "prompt_version", "finished_at")]
        + [f"{quote('credentials')} = ''", f"{quote('progress_total')} = {at_least_one}"]
        + [f"{quote('progress_done')} = {at_least_one}"]
    )
    conditions = " AND ".join(f"{quote(column)} = %s" for column in ("id", "status", "attempts"))
    return f"UPDATE {quote(Job._meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608


def succeed(job: Job, result: dict[str, Any], usage: dict[str, Any], prompt_version: str = "") -> bool:
    """running → succeeded, only in the attempt ``job`` holds (``job.attempts``, as its claim
    returned it): a worker that kept running after the reconciler gave its job to another attempt
    (its heartbeats lost) does not overwrite that attempt's work."""
    check_transition(JobStatus.RUNNING, JobStatus.SUCCEEDED)
    now = timezone.now()
    params = [
        JobStatus.SUCCEEDED,
        Job._meta.get_field("result").get_db_prep_save(result, connection),
        Job._meta.get_field("usage").get_db_prep_save(usage, connection),
        prompt_version,
        connection.ops.adapt_datetimefield_value(now),
        Job._meta.get_field("id").get_db_prep_save(job.id, connection),
        JobStatus.RUNNING,
        job.attempts,
    ]
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(_succeed_sql(connection.vendor), params)
            done = cursor.rowcount == 1
        if done:
            emit(job.id, JobEvent.Kind.DONE, {"status": JobStatus.SUCCEEDED, "result": result})
    if done:
        # The job as the UPDATE above wrote it, so the audit record needs no read-back.
        job.status, job.result, job.usage, job.prompt_version = JobStatus.SUCCEEDED, result, usage, prompt_version
        job.finished_at, job.credentials = now, ""
        _observe_finished(job, JobStatus.SUCCEEDED, now, usage, final=True)
    return done


def fail(job: Job, code: str, message: str, usage: dict[str, Any] | None = None, *, attempt: int | None = None) -> bool:
    now = timezone.now()
    fields: dict[str, Any] = {
        "error_code": code,
        "error_message": message,
        "finished_at": now,
        "credentials": "",
    }
    if usage is not None:
        fields["usage"] = usage
    with transaction.atomic(savepoint=False):
        done = _transition(job.id, [JobStatus.RUNNING, JobStatus.QUEUED], JobStatus.FAILED, attempt=attempt, **fields)
        if done:
            emit(
                job.id, JobEvent.Kind.FAILED, {"status": JobStatus.FAILED, "error": {"code": code, "message": message}}
            )
    if done:
        _observe_finished(job, JobStatus.FAILED, now, usage, code)
    return done


def mark_cancelled(job: Job, usage: dict[str, Any] | None = None) -> bool:
    now = timezone.now()
    fields: dict[str, Any] = {"finished_at": now, "credentials": ""}
    if usage is not None:
        fields["usage"] = usage
    with transaction.atomic(savepoint=False):
        done = _transition(job.id, [JobStatus.RUNNING, JobStatus.QUEUED], JobStatus.CANCELLED, **fields)
        if done:
            # The calls made before the cancellation are paid for: the final event says so too.
            data: dict[str, Any] = {"status": JobStatus.CANCELLED}
            if usage is not None:
                data["usage"] = usage
            emit(job.id, JobEvent.Kind.CANCELLED, data)
    if done:
        _observe_finished(job, JobStatus.CANCELLED, now, usage)
    return done


def reschedule(
    job: Job, delay: float, reason: str, usage: dict[str, Any] | None = None, *, attempt: int | None = None
) -> bool:
    """running → queued, available again after ``delay`` seconds (a 429, a 5xx, a lost worker);
    with ``attempt``, only if the job is still in that attempt."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "available_at": now + timedelta(seconds=delay),
        "enqueued_at": now,
        "worker": "",
    }
    if usage is not None:
        fields["usage"] = usage
    with transaction.atomic(savepoint=False):
        done = _transition(job.id, [JobStatus.RUNNING], JobStatus.QUEUED, attempt=attempt, **fields)
        if done:
            if _streamed_this_attempt(job.id):
                # The next attempt streams its answer from the start: the client drops what it has.
                emit(job.id, JobEvent.Kind.DISCARD, {"reason": reason, "attempt": job.attempts})
            emit(
                job.id,
                JobEvent.Kind.STATUS,
                {"status": JobStatus.QUEUED, "retry_in": round(delay, 3), "reason": reason},
            )
            transaction.on_commit(lambda: enqueue(job.id, countdown=delay))
    if done:
        metrics.JOBS_RESCHEDULED.labels(action=job.action, reason=reason).inc()
    return done


def _streamed_this_attempt(job_id: uuid.UUID | str) -> bool:
    """Whether the attempt being re-scheduled streamed text: deltas after its start, the job's
    last ``running`` status (or after the last discard, for an attempt that never said it ran)."""
    events = JobEvent.objects.filter(job_id=job_id)
    start = events.filter(
        Q(kind=JobEvent.Kind.STATUS, data__status=JobStatus.RUNNING) | Q(kind=JobEvent.Kind.DISCARD)
    ).aggregate(last=Max("id"))["last"]
    return events.filter(kind=JobEvent.Kind.DELTA, id__gt=start or 0).exists()


def _observe_finished(
    job: Job, status: str, now: Any, usage: dict[str, Any] | None, code: str = "", *, final: bool = False
) -> None:
    """``final``: ``job`` holds what its final transaction wrote (else its row is read back)."""
    # The audit record: who, what, which model and revision, what it cost; never text.
    if final:
        audit.record_final(job)
    else:
        audit.record_finished(job.id)
    metrics.JOBS_FINISHED.labels(action=job.action, status=status).inc()
    if job.started_at is not None:
        metrics.RUN_TIME.labels(action=job.action).observe((now - job.started_at).total_seconds())
    # One line per finished job, whichever path finished it (worker, cancellation, reconciler):
    # ids, codes, timings and token counts, never text.
    tokens = usage if usage is not None else (job.usage or {})
    logger.info(
        "job finished id=%s action=%s status=%s%s duration_ms=%d prompt_tokens=%d completion_tokens=%d",
        job.id,
        job.action,
        status,
        f" code={code}" if code else "",
        (now - job.created_at).total_seconds() * 1000 if job.created_at else 0,
        tokens.get("prompt_tokens") or 0,
        tokens.get("completion_tokens") or 0,
    )


def heartbeat(job_ids: Iterable[uuid.UUID | str]) -> set[str]:
    """Refresh the heartbeat of running jobs; return the ids whose owner asked to cancel."""
    ids = list(job_ids)
    if not ids:
        return set()
    Job.objects.filter(id__in=ids, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())
    return cancel_requested(ids)


def cancel_requested(job_ids: Iterable[uuid.UUID | str]) -> set[str]:
    ids = list(job_ids)
    if not ids:
        return set()
    return {str(i) for i in Job.objects.filter(id__in=ids, cancel_requested=True).values_list("id", flat=True)}


# --- Owner actions --------------------------------------------------------------------------------


def request_cancel(job: Job) -> Job:
    """A queued job is cancelled at once; a running one stops at its next checkpoint."""
    if job.status in FINISHED_STATUSES:
        raise JobAlreadyFinished()
    Job.objects.filter(id=job.id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(cancel_requested=True)
    if job.status == JobStatus.QUEUED:
        # A claim checks cancel_requested, so once the flag is set no worker can start the job.
        mark_cancelled(job)
    job.refresh_from_db()
    if job.status in FINISHED_STATUSES and job.status != JobStatus.CANCELLED:
        raise JobAlreadyFinished()
    return job


# --- Reconciliation (beat) ------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    requeued: int = 0
    failed: int = 0
    redelivered: int = 0
    timed_out: int = 0


def reconcile(
    *,
    heartbeat_timeout: float,
    queued_redelivery_after: float,
    max_attempts: int,
    job_timeout: float,
    max_age: float | None = None,
) -> ReconcileReport:
    """Recover jobs whose worker died (stale heartbeat) or whose message was lost (queued too long);
    fail those still unfinished ``max_age`` seconds after their submission, whatever their state
    (re-scheduled again and again, running with a live heartbeat), so that no input text outlives
    the retention."""
    report = ReconcileReport()
    now = timezone.now()
    if max_age is not None:
        too_old = Job.objects.filter(
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__lt=now - timedelta(seconds=max_age)
        ).select_related("owner")
        for job in too_old:
            message = f"The job did not finish within {int(max_age)} seconds of its submission."
            if fail(job, "job_timeout", message):
                report.timed_out += 1
    stale = Job.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=heartbeat_timeout)
    ).select_related("owner")
    # Each change names the attempt found stale: reconcilers running at once (beat's runs queued
    # while no worker was up) must not take back the next attempt, which a live worker runs.
    for job in stale:
        if job.cancel_requested:
            mark_cancelled(job)
        elif job.attempts >= max_attempts:
            message = f"The worker running this job stopped {job.attempts} times."
            if fail(job, "worker_lost", message, attempt=job.attempts):
                report.failed += 1
        elif reschedule(job, 0, "worker_lost", attempt=job.attempts):
            report.requeued += 1
    overdue = Job.objects.filter(
        status=JobStatus.RUNNING, started_at__lt=now - timedelta(seconds=job_timeout)
    ).select_related("owner")
    for job in overdue:
        if fail(job, "job_timeout", f"The job ran longer than {int(job_timeout)} seconds.", attempt=job.attempts):
            report.timed_out += 1
    lost = Job.objects.filter(
        status=JobStatus.QUEUED, enqueued_at__lt=now - timedelta(seconds=queued_redelivery_after)
    ).exclude(available_at__gt=now - timedelta(seconds=queued_redelivery_after))
    for job_id in lost.values_list("id", flat=True):
        # Re-sending is safe: the claim is atomic, so a duplicate message finds nothing to do.
        if Job.objects.filter(id=job_id, status=JobStatus.QUEUED).update(enqueued_at=now):
            enqueue(job_id)
            report.redelivered += 1
    return report


def purge(retention_days: int) -> int:
    """Delete the jobs (their text with them) finished, or submitted, more than ``retention_days``
    ago: a job that ended today after months in the queue goes now, not in another month."""
    cutoff = timezone.now() - timedelta(days=retention_days)
    old = Q(finished_at__lt=cutoff) | Q(created_at__lt=cutoff)
    deleted, _ = Job.objects.filter(old, status__in=FINISHED_STATUSES).delete()
    # The ledger rows of calls made outside any job (Docs' ai-proxy) go at the same age as a job's.
    ModelCall.objects.filter(job__isnull=True, created_at__lt=cutoff).delete()
    return deleted


# --- Per-user cap on running jobs (SUITE_AI_MAX_RUNNING_PER_USER) ---------------------------------
# A capped job is not held by a worker: the claim leaves it queued, marked ``deferred``, and the
# message is acknowledged. When one of the owner's jobs stops running, ``resume_deferred`` re-sends
# as many deferred jobs as there are free places; the reconciler's re-delivery of jobs queued too
# long covers a worker that died in between. Both run under a lock on the owner's row (Postgres;
# SQLite's IMMEDIATE transactions serialise every writer), so the count a claim reads cannot be
# stale: no N+1-th job starts, and no job is deferred after the release that should have re-sent it.


def _lock_owner(owner: Any) -> None:
    """Serialise claims and releases of one owner's jobs (a no-op on SQLite, already serialised)."""
    list(User.objects.select_for_update().filter(id=owner).values_list("id", flat=True))


def claim_capped(job_id: uuid.UUID | str, worker: str, cap: int) -> Job | None:
    with transaction.atomic():
        _lock_owner(Job.objects.filter(id=job_id).values("owner_id")[:1])
        job = _claim(job_id, worker, cap)
        if job is None:
            _defer(job_id)
    return job


def _defer(job_id: uuid.UUID | str) -> None:
    """Mark a job that was claimable but for its owner's cap; its stream says why it waits."""
    now = timezone.now()
    claimable = Job.objects.filter(id=job_id, status=JobStatus.QUEUED, cancel_requested=False).exclude(
        available_at__gt=now
    )
    if claimable.filter(deferred=False).update(deferred=True):
        emit(job_id, JobEvent.Kind.STATUS, {"status": JobStatus.QUEUED, "reason": "max_running_per_user"})
        action = Job.objects.filter(id=job_id).values_list("action", flat=True).first() or ""
        metrics.JOBS_RESCHEDULED.labels(action=action, reason="max_running_per_user").inc()


def resume_deferred(owner_id: Any) -> list[str]:
    """After one of ``owner_id``'s jobs stopped running: re-send their oldest deferred jobs, as
    many as the cap has free places; returns their ids."""
    cap = settings.SUITE_AI_MAX_RUNNING_PER_USER
    if cap <= 0:
        return []
    with transaction.atomic():
        _lock_owner(owner_id)
        mine = Job.objects.filter(owner_id=owner_id)
        free = cap - mine.filter(status=JobStatus.RUNNING).count()
        if free <= 0:
            return []
        ids = list(
            mine.filter(status=JobStatus.QUEUED, deferred=True)
            .order_by("created_at")
            .values_list("id", flat=True)[:free]
        )
        if ids:
            Job.objects.filter(id__in=ids).update(deferred=False, enqueued_at=timezone.now())

            def send() -> None:
                for job_id in ids:
                    enqueue(job_id)

            transaction.on_commit(send)
    return [str(job_id) for job_id in ids]
