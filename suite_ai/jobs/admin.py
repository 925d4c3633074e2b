from django.contrib import admin
from django.http import HttpRequest

from suite_ai.jobs.models import Job, JobEvent, ModelCall


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "action", "status", "owner", "document_id", "attempts", "created_at", "finished_at")
    list_filter = ("status", "action")
    search_fields = ("id", "document_id", "owner__sub", "owner__email")
    # Document text and credentials stay out of the admin: operators see metadata only.
    exclude = ("input", "credentials", "result")
    readonly_fields = (
        "owner", "document_id", "action", "options", "input_hash", "idempotency_key", "status", "cancel_requested",
        "progress_done", "progress_total", "error_code", "error_message", "usage", "prompt_version", "attempts",
        "worker", "note_id", "created_at", "enqueued_at", "available_at", "started_at", "heartbeat_at", "finished_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ModelCall)
class ModelCallAdmin(admin.ModelAdmin):
    list_display = ("job", "model", "stage", "prompt_tokens", "completion_tokens", "latency_ms", "created_at")
    list_filter = ("model", "stage")


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "kind", "created_at")
    list_filter = ("kind",)
    exclude = ("data",)
