from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.urls import get_urlconf, reverse
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


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


@functools.cache
def _link_paths(urlconf: str) -> dict[str, str]:
    """The paths of a job's links, with ``{}`` for its id: reversed once, not three times for each
    job the API shows. Cached per URL configuration."""
    names = {"self": "job-detail", "events": "job-events", "cancel": "job-cancel"}
    return {key: reverse(name, kwargs={"pk": _PLACEHOLDER}).replace(_PLACEHOLDER, "{}") for key, name in names.items()}


def job_links(job: Job, request: Any) -> dict[str, str]:
    paths = _link_paths(get_urlconf() or settings.ROOT_URLCONF)
    # One host check for the three links: they share the request's scheme and host.
    base = request.build_absolute_uri("/")[:-1] if request is not None else ""
    links = {key: base + path.format(job.id) for key, path in paths.items()}
    # The events link carries a ticket for this job and its owner: a browser's EventSource
    # cannot send the Authorization header (suite_ai.jobs.tickets).
    links["events"] += f"?ticket={tickets.issue(job.id, job.owner_id)}"
    return links


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
