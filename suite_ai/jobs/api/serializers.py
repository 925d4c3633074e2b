from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from suite_ai.jobs import tickets
from suite_ai.jobs.models import FINISHED_STATUSES, Job


class ActionSubmitSerializer(serializers.Serializer):
    """The JSON shape of a submission; what the action accepts is checked by the pipeline."""

    action = serializers.CharField(max_length=64)
    input = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            'One of {"markdown": "..."}, {"blocks": [BlockNote JSON]}, '
            '{"ydoc": "<base64 Yjs update>", "block_ids": [...]}; omitted: fetched from Docs.'
        ),
    )
    options = serializers.DictField(required=False, default=dict)


class JobLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    events = serializers.URLField()
    cancel = serializers.URLField()


def job_links(job: Job, request: Any) -> dict[str, str]:
    def absolute(name: str) -> str:
        path = reverse(name, kwargs={"pk": job.id})
        return request.build_absolute_uri(path) if request is not None else path

    # The events link carries a ticket for this job and its owner: a browser's EventSource
    # cannot send the Authorization header (suite_ai.jobs.tickets).
    return {
        "self": absolute("job-detail"),
        "events": f"{absolute('job-events')}?ticket={tickets.issue(job.id, job.owner_id)}",
        "cancel": absolute("job-cancel"),
    }


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    abilities = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "document_id",
            "action",
            "options",
            "status",
            "progress",
            "result",
            "error",
            "usage",
            "prompt_version",
            "attempts",
            "input_hash",
            "created_at",
            "started_at",
            "finished_at",
            "links",
            "abilities",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}})
    def get_progress(self, job: Job) -> dict[str, int]:
        return job.progress

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    )
    def get_error(self, job: Job) -> dict[str, Any] | None:
        return job.error

    @extend_schema_field(JobLinksSerializer)
    def get_links(self, job: Job) -> dict[str, str]:
        return job_links(job, self.context.get("request"))

    @extend_schema_field({"type": "object", "properties": {"cancel": {"type": "boolean"}}})
    def get_abilities(self, job: Job) -> dict[str, bool]:
        return {"retrieve": True, "cancel": job.status not in FINISHED_STATUSES}


class JobAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    links = JobLinksSerializer()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, machine-readable")
    message = serializers.CharField(help_text="for a person")
