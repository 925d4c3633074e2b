from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from suite_ai.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only: a trail operators can change is no trail."""

    list_display = (
        "finished_at", "user_sub", "action", "status", "error_code", "model", "prompt_version",
        "document_id", "prompt_tokens", "completion_tokens",
    )  # fmt: skip
    list_filter = ("action", "status", "model")
    search_fields = ("job_id", "document_id", "user_sub", "user_email")
    date_hierarchy = "finished_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
