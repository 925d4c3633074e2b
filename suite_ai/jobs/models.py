"""Jobs are rows: the broker only carries their ids, so a lost message never loses a job."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from suite_ai.jobs import failures


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})

# The only transitions the state machine allows. ``running → queued`` is a re-schedule (model 429,
# worker lost); everything else moves forward.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    document_id = models.UUIDField()
    action = models.CharField(max_length=32)
    options = models.JSONField(default=dict, blank=True)
    input = models.JSONField(null=True, blank=True)
    input_hash = models.CharField(max_length=64)
    # NULL, not "", when absent: the per-owner uniqueness constraint only applies to real keys.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    usage = models.JSONField(default=dict, blank=True)
    prompt_version = models.CharField(max_length=64, blank=True, default="")

    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")
    # The id of the Docs note this job writes, fixed before the first attempt (exactly-once notes).
    note_id = models.UUIDField(null=True, blank=True)
    # Encrypted credentials the worker needs to act on Docs as the caller; wiped when the job ends.
    credentials = models.TextField(blank=True, default="")
    # Queued without a message in the broker: its owner had SUITE_AI_MAX_RUNNING_PER_USER jobs
    # running when a worker got it; re-sent when one of them ends (or by the reconciler).
    deferred = models.BooleanField(default=False)
    # Tokens of the input, counted at submission: what the job counts against the daily quotas
    # until its model calls are recorded (suite_ai.jobs.quotas).
    reserved_tokens = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="job_unique_idempotency_key_per_owner",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
            models.Index(fields=["document_id"], name="job_document"),
            models.Index(fields=["created_at"], name="job_created"),
            models.Index(fields=["owner", "status"], name="job_owner_status"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def progress(self) -> dict[str, int]:
        return {"done": self.progress_done, "total": self.progress_total}

    @property
    def error(self) -> dict[str, Any] | None:
        if not self.error_code:
            return None
        return failures.describe(self.error_code, self.error_message)


class JobEvent(models.Model):
    """What the event stream replays: its auto-increment id is the SSE event id (Last-Event-ID)."""

    class Kind(models.TextChoices):
        STATUS = "status"
        PROGRESS = "progress"
        DELTA = "delta"
        DISCARD = "discard"  # the streamed text so far is void: the job is retried from the start
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["job", "id"], name="jobevent_job_id")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.id} of {self.job_id}"


class ModelCall(models.Model):
    """One model call: the usage ledger that totals per user, document and day are read from."""

    id = models.BigAutoField(primary_key=True)
    # None: a call made outside any job (Docs' ai-proxy stream, suite_ai.docs_ai_proxy).
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="model_calls", null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document_id = models.UUIDField()
    stage = models.CharField(max_length=32, default="single")
    model = models.CharField(max_length=128)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "created_at"], name="modelcall_owner_day"),
            models.Index(fields=["document_id", "created_at"], name="modelcall_document_day"),
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.stage}) for {self.job_id or self.document_id}"


class JobCheckpoint(models.Model):
    """A finished piece of a long job (one map chunk, one reduce node), so a retry does not redo it."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="checkpoints")
    key = models.CharField(max_length=128)
    output = models.TextField()
    usage = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="checkpoint_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} of {self.job_id}"


class WorkerHeartbeat(models.Model):
    """A worker process's last sign of life, for ``/health/ready``. The worker's heartbeat thread
    writes it every SUITE_AI_HEARTBEAT_INTERVAL, idle or busy; a clean shutdown deletes it."""

    name = models.CharField(max_length=255, primary_key=True)  # Celery node name and PID
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} (beat {self.beat_at:%Y-%m-%d %H:%M:%S})"
