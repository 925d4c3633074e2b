from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditRecord(models.Model):
    """One finished job (succeeded, failed or cancelled), for the people who run the service.

    Identifiers, versions, hashes and counts only, never text: nothing here is document content,
    prompt or output, so it outlives the job (no foreign key to it: the purge of jobs, at
    SUITE_AI_RETENTION_DAYS, leaves it) and the user (their identity at the time is copied). It
    is deleted in its turn SUITE_AI_AUDIT_RETENTION_DAYS after the job ended."""

    job_id = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_sub = models.CharField(max_length=255)  # the OIDC subject when the job ran
    user_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=32)
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=64, blank=True, default="")
    engine = models.CharField(max_length=16, blank=True, default="")  # model | extractive
    model = models.CharField(max_length=128, blank=True, default="")  # the one that wrote the answer
    models_used = models.JSONField(default=list, blank=True)  # every model called, map stages included
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    document_id = models.UUIDField()
    # Where the text came from: "input" (sent with the action) or "docs" (read from Docs), and
    # which revision: Docs' ETag when it gives one, else the SHA-256 of what was read.
    source = models.CharField(max_length=8, blank=True, default="")
    source_revision = models.CharField(max_length=255, blank=True, default="")
    output_sha256 = models.CharField(max_length=64, blank=True, default="")
    note_id = models.UUIDField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()  # the job's submission
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-finished_at"]
        indexes = [
            models.Index(fields=["finished_at"], name="audit_finished"),
            models.Index(fields=["user_sub", "finished_at"], name="audit_user"),
            models.Index(fields=["document_id", "finished_at"], name="audit_document"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.status} by {self.user_sub} on {self.document_id}"
