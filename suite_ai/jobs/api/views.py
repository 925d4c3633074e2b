"""The REST API (``/api/v1.0/``). Views stay thin: validation and decisions live in the pipeline
(what an action accepts) and in ``jobs.services`` (the state machine)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from suite_ai import pipeline
from suite_ai.accounts.docs_session import SessionCall
from suite_ai.accounts.models import User
from suite_ai.accounts.oidc import ServiceCall, UserAccessToken
from suite_ai.api_errors import APIError, body_too_large
from suite_ai.jobs import quotas, services, usage
from suite_ai.jobs.api.serializers import (
    ActionSerializer,
    ActionSubmitSerializer,
    ErrorSerializer,
    JobAcceptedSerializer,
    JobSerializer,
    UsageReportSerializer,
    job_links,
)
from suite_ai.jobs.models import Job, JobStatus
from suite_ai.jobs.throttling import SubmitThrottle

IDEMPOTENCY_KEY_MAX_LENGTH = 255
JOB_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class ActionCatalogueView(APIView):
    @extend_schema(
        summary="The actions an editor can offer",
        responses={200: ActionSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(pipeline.catalogue())


def caller(request: Request) -> User:
    """The authenticated user (every view requires authentication)."""
    assert isinstance(request.user, User)
    return request.user


def pipeline_caller(request: Request) -> pipeline.Caller:
    """What the pipeline needs to know of the authentication: whose rights Docs will check."""
    auth = request.auth
    if isinstance(auth, UserAccessToken):
        return pipeline.Caller(pipeline.CallerKind.DOCS_USER, auth.token)
    if isinstance(auth, ServiceCall):
        return pipeline.Caller(pipeline.CallerKind.SERVICE)
    if isinstance(auth, SessionCall):
        return pipeline.Caller(pipeline.CallerKind.DOCS_SESSION, auth.session)
    return pipeline.Caller(pipeline.CallerKind.LOCAL)


def parse_document_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise APIError("invalid_document_id", _("The document id must be a UUID.")) from None


def check_quotas(user: User, document_id: uuid.UUID, tokens: int, idempotency_key: str | None) -> None:
    if idempotency_key and Job.objects.filter(owner=user, idempotency_key=idempotency_key).exists():
        return  # a replay answers with the job it made: it costs nothing
    try:
        quotas.check(user.pk, document_id, tokens)
    except quotas.QuotaExceeded as exceeded:
        quota = exceeded.quota
        values = {"used": quota.used, "limit": quota.limit, "resets_at": quota.resets_at.strftime("%Y-%m-%d %H:%M UTC")}
        message = (
            _("Your model tokens for today are used up (%(used)d of %(limit)d); the quota resets at %(resets_at)s.")
            if quota.scope == "user"
            else _(
                "The model tokens for this document today are used up (%(used)d of %(limit)d); the quota resets"
                " at %(resets_at)s."
            )
        ) % values
        raise APIError(
            "quota_exceeded",
            message,
            status.HTTP_429_TOO_MANY_REQUESTS,
            scope=quota.scope,
            requested=tokens,
            retry_after=max(1, math.ceil((quota.resets_at - timezone.now()).total_seconds())),
            **quota.to_dict(),
        ) from None


class DocumentActionView(APIView):
    throttle_classes = [SubmitThrottle]

    @extend_schema(
        summary="Run an action on a document",
        request=ActionSubmitSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Same key and payload: the same job. Same key, other payload: 409.",
            )
        ],
        responses={
            202: JobAcceptedSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            413: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request, document_id: str) -> Response:
        document_uuid = parse_document_id(document_id)
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise body_too_large()
        idempotency_key = request.headers.get("Idempotency-Key") or None
        if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise APIError(
                "invalid_idempotency_key",
                _("The Idempotency-Key header is limited to %(limit)d characters.")
                % {"limit": IDEMPOTENCY_KEY_MAX_LENGTH},
            )
        if not isinstance(request.data, dict):
            raise APIError("invalid_request", _("The request body must be a JSON object."))
        serializer = ActionSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unknown_fields = set(request.data) - set(serializer.fields)
        if unknown_fields:
            raise APIError(
                "unknown_field",
                _("Unknown field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown_fields))},
                fields=sorted(unknown_fields),
            )
        try:
            prepared = pipeline.prepare(
                user=caller(request),
                document_id=document_uuid,
                action=serializer.validated_data["action"],
                input=serializer.validated_data.get("input"),
                options=serializer.validated_data.get("options") or {},
                caller=pipeline_caller(request),
            )
        except pipeline.ActionRequestError as error:
            raise APIError(error.code, error.message, error.status, **error.extra) from None
        if quotas.enabled():
            check_quotas(caller(request), document_uuid, prepared.input_tokens, idempotency_key)
        try:
            job, created = services.submit(
                services.Submission(
                    owner=caller(request),
                    document_id=document_uuid,
                    action=prepared.action,
                    options=prepared.options,
                    input=prepared.input,
                    idempotency_key=idempotency_key,
                    needs_note=prepared.writes_note,
                    credentials=prepared.credentials,
                    reserved_tokens=prepared.input_tokens,
                )
            )
        except services.IdempotencyConflict:
            raise APIError(
                "idempotency_conflict",
                _("This Idempotency-Key was already used with a different request."),
                status.HTTP_409_CONFLICT,
            ) from None
        links = job_links(job, request)
        body = {"id": str(job.id), "status": job.status, "links": links}
        headers = {"Location": links["self"]}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


@extend_schema_view(
    retrieve=extend_schema(parameters=[JOB_ID]),
    cancel=extend_schema(parameters=[JOB_ID]),
)
class JobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own jobs. Another user's job answers 404, exactly like a missing one."""

    serializer_class = JobSerializer

    def get_queryset(self) -> Any:
        jobs = Job.objects.filter(owner=caller(self.request)).defer("input", "credentials")
        if self.action != "list":
            return jobs
        params = self.request.query_params
        if document := params.get("document"):
            jobs = jobs.filter(document_id=parse_document_id(document))
        if job_status := params.get("status"):
            if job_status not in JobStatus.values:
                raise APIError(
                    "invalid_filter",
                    _("Unknown status %(status)r: expected one of %(choices)s.")
                    % {"status": job_status, "choices": ", ".join(JobStatus.values)},
                    choices=JobStatus.values,
                )
            jobs = jobs.filter(status=job_status)
        if job_action := params.get("action"):
            jobs = jobs.filter(action=job_action)
        return jobs

    @extend_schema(
        parameters=[
            OpenApiParameter("document", str, description="a document id"),
            OpenApiParameter("status", str, enum=JobStatus.values),
            OpenApiParameter("action", str),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={200: JobSerializer, 404: ErrorSerializer, 409: OpenApiResponse(ErrorSerializer)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        try:
            job = services.request_cancel(job)
        except services.JobAlreadyFinished:
            raise APIError(
                "job_finished",
                _("The job already ended (%(status)s); it cannot be cancelled.") % {"status": job.status},
                status.HTTP_409_CONFLICT,
            ) from None
        return Response(self.get_serializer(job).data)


class UsageView(APIView):
    """The caller's own model usage: totals, per day and per document."""

    @extend_schema(
        summary="My model usage",
        parameters=[
            OpenApiParameter("days", int, description="only the last N days (default 30)"),
            OpenApiParameter("document", str, description="a document id: also report its daily quota"),
        ],
        responses={200: UsageReportSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            days = int(request.query_params.get("days", "30"))
        except ValueError:
            raise APIError("invalid_filter", _("days must be a whole number.")) from None
        if not 1 <= days <= 366:
            raise APIError("invalid_filter", _("days must be between 1 and 366."))
        since = timezone.now().date() - dt.timedelta(days=days)
        owner = caller(request).pk
        quota = {"user": quotas.user_quota(owner).to_dict()}
        if document := request.query_params.get("document"):
            quota["document"] = quotas.document_quota(parse_document_id(document)).to_dict()
        return Response(
            {
                "since": since.isoformat(),
                "total": usage.totals(owner_id=owner, since=since)[0],
                "by_day": usage.totals("day", owner_id=owner, since=since),
                "by_document": usage.totals("document", owner_id=owner, since=since),
                "quota": quota,
            }
        )
