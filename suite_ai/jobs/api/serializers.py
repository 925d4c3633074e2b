from __future__ import annotations

import functools
import re
from typing import Any

from django.conf import settings
from django.urls import get_urlconf, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from suite_ai.api_errors import APIError
from suite_ai.jobs import tickets
from suite_ai.jobs.models import FINISHED_STATUSES, Job

_SURROGATE = re.compile("[\ud800-\udfff]")


def _path(parts: tuple[str | int, ...]) -> str:
    return "".join(
        f"[{part}]" if isinstance(part, int) else (f".{part}" if i else part) for i, part in enumerate(parts)
    )


def check_body_text(data: Any) -> None:
    """Refuse what no text may hold and what nests too deep, before anything recurses over the body
    or stores it: a NUL character (Postgres refuses it in text, quoting the value into its error,
    while SQLite stores it), a lone UTF-16 surrogate (a JSON escape like ``"\\ud800"``, which no
    encoder can write). Walks with an explicit stack."""
    max_depth = 2 * settings.SUITE_AI_MAX_BLOCK_DEPTH + 32
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > max_depth:
            raise APIError(
                "input_too_deep",
                _("The request body nests JSON values deeper than %(limit)d levels.") % {"limit": max_depth},
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(str(key), path)
                stack.append((item, (*path, str(key))))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, path)


def _check_text(text: str, path: tuple[str | int, ...]) -> None:
    if "\x00" in text:
        message = _("A text holds a NUL character (U+0000), which no document may contain.")
    elif _SURROGATE.search(text):
        message = _("A text holds a lone UTF-16 surrogate: half of a character, which no document may contain.")
    else:
        return
    raise APIError("invalid_text", message, path=_path(path) or "body")


class ActionSubmitSerializer(serializers.Serializer):
    """The JSON shape of a submission; what the action accepts is checked by the pipeline."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # Before the fields: DRF's CharField would word a NUL its own way, and the input is free JSON.
        if data is not serializers.empty:
            check_body_text(data)
        return super().run_validation(data)

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


# --- Response shapes, for the OpenAPI document ------------------------------------------------------


def constant(value: str, help_text: str = "", *, required: bool = True) -> serializers.CharField:
    """A string field that always holds ``value``, as an inline one-value enum in the schema (a
    ChoiceField would make a component of each, whose names collide)."""

    @extend_schema_field({"type": "string", "enum": [value]})
    class Constant(serializers.CharField):
        pass

    return Constant(help_text=help_text, required=required)


# ``result`` and ``usage`` are JSON columns written by the pipeline; these serializers only describe
# them (the API still renders the stored JSON as it is), so clients can generate typed models.


class NoteReferenceSerializer(serializers.Serializer):
    document_id = serializers.UUIDField(help_text="the note's id in Docs")
    url = serializers.URLField(help_text="where people open it")
    title = serializers.CharField(help_text="as Docs keeps it")


class JobResultSerializer(serializers.Serializer):
    markdown = serializers.CharField(help_text="the output as markdown")
    blocks = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="the output as BlockNote blocks (JSON), validated against the editor's schema; editor actions",
    )
    note = NoteReferenceSerializer(required=False, help_text="the note written in Docs; the note action")
    engine = constant("extractive", help_text="present when the offline extractive engine wrote it", required=False)


class StageUsageSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()


class JobUsageSerializer(serializers.Serializer):
    """Empty until the job ends; the extractive engine reports only ``engine`` and ``calls``."""

    engine = serializers.ChoiceField(choices=["model", "extractive"], required=False)
    model = serializers.CharField(required=False, help_text="the model of the final answer")
    models = serializers.ListField(child=serializers.CharField(), required=False, help_text="every model called")
    calls = serializers.IntegerField(required=False, help_text="model calls paid for")
    reused_calls = serializers.IntegerField(required=False, help_text="answers taken from an earlier attempt")
    prompt_tokens = serializers.IntegerField(required=False)
    completion_tokens = serializers.IntegerField(required=False)
    total_tokens = serializers.IntegerField(required=False)
    model_time_ms = serializers.IntegerField(required=False)
    ttft_ms = serializers.IntegerField(required=False, allow_null=True, help_text="time to the first token")
    usage_estimated = serializers.BooleanField(required=False, help_text="the gateway sent no usage: estimated")
    by_stage = serializers.DictField(
        child=StageUsageSerializer(), required=False, help_text="single, map, merge, reduce, …"
    )


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="stable snake_case: model_rate_limited, model_unavailable, model_timeout, input_too_large, "
        "empty_document, worker_lost, job_timeout, internal_error, docs_…"
    )
    message = serializers.CharField(help_text="for a person, in the language of the request's Accept-Language")
    detail = serializers.CharField(
        required=False,
        help_text="when the message is not in English: the worker's own English message, with its specifics",
    )


@extend_schema_field(JobResultSerializer)
class JobResultField(serializers.JSONField):
    pass


@extend_schema_field(JobUsageSerializer)
class JobUsageField(serializers.JSONField):
    pass


class ActionLabelSerializer(serializers.Serializer):
    fr = serializers.CharField()
    en = serializers.CharField()


class ActionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["string", "integer", "boolean"])
    # Named like attributes of Field, which mypy sees; DRF's metaclass takes declared fields out of
    # the class, so they shadow nothing at run time.
    required = serializers.BooleanField()  # type: ignore[assignment]
    description = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    max_length = serializers.IntegerField(required=False)


class ActionSerializer(serializers.Serializer):
    """One entry of the catalogue (``suite_ai.pipeline.actions``)."""

    name = serializers.CharField()
    label = ActionLabelSerializer()  # type: ignore[assignment]  # as ActionOptionSerializer.required
    description = serializers.CharField()
    options = ActionOptionSerializer(many=True)
    needs_model = serializers.BooleanField(help_text="only a language model can run it")
    offline_engine = serializers.BooleanField(help_text="runs without a model (extractive engine)")
    result = serializers.ChoiceField(
        choices=["blocks", "note"], help_text="blocks for the editor, or a note written in Docs"
    )
    scope = serializers.ListField(child=serializers.ChoiceField(choices=["selection", "document"]))


class UsageTotalsSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()


class UsageByDaySerializer(UsageTotalsSerializer):
    day = serializers.DateField()


class UsageByDocumentSerializer(UsageTotalsSerializer):
    document = serializers.UUIDField()


class QuotaSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="tokens of today's model calls, and reserved by unfinished jobs")
    limit = serializers.IntegerField(allow_null=True, help_text="null: no quota")
    remaining = serializers.IntegerField(allow_null=True, help_text="null: no quota")
    resets_at = serializers.DateTimeField(help_text="the next midnight UTC")


class UsageQuotasSerializer(serializers.Serializer):
    user = QuotaSerializer(help_text="the caller's daily tokens (SUITE_AI_DAILY_TOKENS_PER_USER)")
    document = QuotaSerializer(
        required=False,
        help_text="with ?document=: that document's daily tokens, all users (SUITE_AI_DAILY_TOKENS_PER_DOCUMENT)",
    )


class UsageReportSerializer(serializers.Serializer):
    since = serializers.DateField()
    total = UsageTotalsSerializer()
    by_day = UsageByDaySerializer(many=True)
    by_document = UsageByDocumentSerializer(many=True)
    quota = UsageQuotasSerializer()


class JobSerializer(serializers.ModelSerializer):
    result = JobResultField(read_only=True, allow_null=True, help_text="set once the job succeeded")
    usage = JobUsageField(read_only=True)
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

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}},
            "required": ["done", "total"],
        }
    )
    def get_progress(self, job: Job) -> dict[str, int]:
        return job.progress

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict[str, Any] | None:
        return job.error

    @extend_schema_field(JobLinksSerializer)
    def get_links(self, job: Job) -> dict[str, str]:
        return job_links(job, self.context.get("request"))

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"retrieve": {"type": "boolean"}, "cancel": {"type": "boolean"}},
            "required": ["retrieve", "cancel"],
        }
    )
    def get_abilities(self, job: Job) -> dict[str, bool]:
        return {"retrieve": True, "cancel": job.status not in FINISHED_STATUSES}


class JobAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    links = JobLinksSerializer()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, machine-readable")
    message = serializers.CharField(help_text="for a person")


# --- The event stream (GET /jobs/{id}/events/), one serializer per event ----------------------------
# On the wire each event is ``id: <n>`` / ``event: <name>`` / ``data: <JSON>``; these describe the
# three as one object, the ``data`` by event name.


class StatusEventDataSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="`queued`: back in the queue")
    retry_in = serializers.FloatField(help_text="seconds before it runs again")
    reason = serializers.CharField(help_text="why: model_rate_limited, model_unavailable, worker_lost, …")


class ProgressEventDataSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class DeltaEventDataSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="the next piece of the output, to append")


class DiscardEventDataSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="the error code that cut the attempt short")
    attempt = serializers.IntegerField(help_text="the attempt whose streamed text is void")


class DoneEventDataSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="`succeeded`")
    result = JobResultSerializer()


class FailedEventDataSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="`failed`")
    error = JobErrorSerializer()


class CancelledEventDataSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="`cancelled`")


def _event_serializer(name: str, data: type[serializers.Serializer], help_text: str) -> type[serializers.Serializer]:
    fields = {
        "id": serializers.IntegerField(help_text="the SSE id; send it back as Last-Event-ID to resume"),
        "event": constant(name, help_text=help_text),
        "data": data(),
    }
    return type(f"{name.capitalize()}EventSerializer", (serializers.Serializer,), fields)


JOB_EVENT_SERIALIZERS: dict[str, serializers.Serializer | type[serializers.Serializer]] = {
    name: _event_serializer(name, data, help_text)
    for name, data, help_text in (
        ("status", StatusEventDataSerializer, "the job went back to the queue (a retry)"),
        ("progress", ProgressEventDataSerializer, "parts of a long job done"),
        ("delta", DeltaEventDataSerializer, "streamed output"),
        ("discard", DiscardEventDataSerializer, "drop the output streamed so far: the job is retried from its start"),
        ("done", DoneEventDataSerializer, "the job succeeded; the stream ends"),
        ("failed", FailedEventDataSerializer, "the job failed; the stream ends"),
        ("cancelled", CancelledEventDataSerializer, "the job was cancelled; the stream ends"),
    )
}
