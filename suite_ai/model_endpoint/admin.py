from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from suite_ai.model_endpoint.models import ServiceModelCall


@admin.register(ServiceModelCall)
class ServiceModelCallAdmin(admin.ModelAdmin):
    """Read-only: a usage ledger."""

    list_display = (
        "created_at", "service", "requested_model", "upstream", "model", "status", "stream",
        "prompt_tokens", "completion_tokens", "attempts", "latency_ms",
    )  # fmt: skip
    list_filter = ("service", "requested_model", "upstream", "status")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ServiceModelCall._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
