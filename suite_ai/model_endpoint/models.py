"""The usage ledger of the model endpoint: one row per call a service made, per calling service."""

from __future__ import annotations

from django.db import models


class ServiceModelCall(models.Model):
    """A call to ``/v1/chat/completions``: who asked (the service token's fingerprint, never the
    token), which model it named, which upstream and model served it, at what token cost. A call
    refused for the rate (429) or lost with every upstream (502/503) is a row too, with no tokens."""

    id = models.BigAutoField(primary_key=True)
    service = models.CharField(max_length=32, help_text="fingerprint of the service token (sha256, 12 hex digits)")
    requested_model = models.CharField(max_length=128)
    upstream = models.CharField(max_length=64, blank=True, default="")
    model = models.CharField(max_length=128, blank=True, default="")
    status = models.PositiveSmallIntegerField()
    stream = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=1)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["service", "created_at"], name="servicecall_service_day")]

    def __str__(self) -> str:
        return f"{self.requested_model} for {self.service} ({self.status})"
