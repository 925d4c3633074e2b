"""Docs' own legacy AI paths, served by suite_ai: ``POST /api/v1.0/documents/{id}/ai-transform/``
and ``…/ai-translate/``, for an unmodified Docs frontend behind one ingress rule.

The request is what Docs' frontend sends (``useDocAITransform.tsx``, ``useDocAITranslate.tsx``:
``fetchAPI`` with the session cookie, ``X-CSRFToken`` and a JSON body) and the answers are Docs'
(``DocumentViewSet.ai_transform`` / ``ai_translate`` in Docs' ``core/api/viewsets.py``,
``AITransformSerializer`` / ``AITranslateSerializer`` in ``serializers.py``): ``200 {"answer"}``;
``401`` without a session Docs knows; ``403`` on a CSRF failure (``"CSRF Failed: …"``) or without
the ``ai_transform`` / ``ai_translate`` ability; ``404`` for a document Docs does not have;
``400`` with DRF's field errors; ``429`` with Docs' throttle message. What Docs cannot answer
(a body over the limit, Docs unreachable, the job failing or outlasting ``SUITE_AI_DOCS_AI_WAIT``)
is in suite_ai's shape, ``{"code", "message"}``.

Underneath, each request is a suite_ai job (queued, retried, the shared model limiter, usage on
the user and the document). ``serve`` is a plain ASGI endpoint (``suite_ai.asgi`` routes the POSTs
of these paths to it): its checks and the submission run on the stream hub's few shared threads
(``streams.Hub.openings``), then the request waits for the job's last event as a follower of the
hub — a coroutine, no thread, no database connection. ``docs_ai_view`` is the same under a WSGI
server or Django's test client: it waits for the job by polling its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import global_settings, settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.cookie import parse_cookie
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers

from suite_ai import pipeline
from suite_ai.accounts import docs_session
from suite_ai.accounts.authentication import AuthError
from suite_ai.accounts.docs_session import DocsError, DocsNotFound, DocsUnauthorized, DocsUnavailable
from suite_ai.accounts.models import User
from suite_ai.api_errors import APIError
from suite_ai.jobs import failures, quotas, services, streams
from suite_ai.jobs.api.views import check_quotas
from suite_ai.jobs.models import Job, JobEvent, JobStatus
from suite_ai.jobs.throttling import hit
from suite_ai.languages import language_for

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = re.compile(r"^/api/v1\.0/documents/(?P<pk>[^/]+)/ai-(?P<kind>transform|translate)/$")
KINDS = ("transform", "translate")
ABILITY = {"transform": "ai_transform", "translate": "ai_translate"}
POLL_INTERVAL = 0.05  # the WSGI fallback's wait between two reads of the job's row
_PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
# Docs' messages (DRF's, translated by DRF's own catalogues as in Docs).
NOT_FOUND = "No Document matches the given query."


# --- Docs' serializers, as in Docs' core/api/serializers.py -----------------------------------------


class AITransformSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=pipeline.docs_legacy.TRANSFORM_ACTIONS, required=True)
    text = serializers.CharField(required=True)

    def validate_text(self, value: str) -> str:
        if len(value.strip()) == 0:
            raise serializers.ValidationError("Text field cannot be empty.")
        return value


class AITranslateSerializer(serializers.Serializer[Any]):
    language = serializers.ChoiceField(choices=tuple(global_settings.LANGUAGES), required=True)
    text = serializers.CharField(required=True)

    def validate_text(self, value: str) -> str:
        if len(value.strip()) == 0:
            raise serializers.ValidationError("Text field cannot be empty.")
        return value


# --- The checks and the submission (one thread; no waiting here) ------------------------------------


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


def _detail(status: int, detail: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    return Answer(status, {"detail": str(detail)}, headers or [])


def _error(code: str, message: str, status: int, **extra: Any) -> Answer:
    return Answer(status, {"code": code, "message": message, **extra})


@dataclass(frozen=True)
class Admitted:
    job_id: str
    kind: str


def _over_rate(scope: str, key: str, rates: dict[str, int]) -> float | None:
    """Seconds until the next request is allowed, when one of the periods is used up."""
    now = time.time()
    waits = []
    for period, limit in rates.items():
        seconds = _PERIODS[period]
        window = int(now // seconds)
        if hit(f"suite_ai:throttle:docs_ai:{scope}:{key}:{seconds}:{window}", seconds) > limit:
            waits.append((window + 1) * seconds - now)
    return max(waits) if waits else None


def admit(  # noqa: PLR0917 (the request's parts, from ASGI or WSGI)
    kind: str, raw_id: str, method: str, headers: dict[str, str], cookies: dict[str, str], body: bytes
) -> Answer | Admitted:
    """Everything Docs checks, in Docs' order, then the job. ``headers``: lower-case names."""
    if method != "POST":
        return _detail(405, exceptions.MethodNotAllowed(method).detail)
    if not docs_session.enabled():
        return _error("not_found", _("Docs' AI paths are not served here: DOCS_BASE_URL is not set."), 404)
    session = docs_session.session_cookie(cookies)
    if session is None:
        return _detail(401, exceptions.NotAuthenticated.default_detail)
    try:
        found = docs_session.identity(session)
    except DocsUnauthorized:
        return _detail(401, exceptions.NotAuthenticated.default_detail)
    except DocsError:
        return _docs_unavailable()
    reason = docs_session.csrf_failure(method, cookies, headers)
    if reason is not None:
        return _detail(403, f"CSRF Failed: {reason}")
    try:
        document_id = uuid.UUID(raw_id)
    except ValueError:
        return _detail(404, NOT_FOUND)
    try:
        document = docs_session.document(session, document_id)
    except DocsNotFound:
        return _detail(404, NOT_FOUND)
    except DocsUnavailable:
        return _docs_unavailable()
    except DocsError as error:
        if error.status in (401, 403):
            return _detail(403, exceptions.PermissionDenied.default_detail)
        return _docs_unavailable()
    if not document.can(ABILITY[kind]):
        return _detail(403, exceptions.PermissionDenied.default_detail)
    content_type = headers.get("content-type", "")
    if "json" not in content_type.split(";")[0]:
        return _detail(415, exceptions.UnsupportedMediaType(content_type or "").detail)
    try:
        data = json.loads(body or b"{}")
    except ValueError as error:
        return _detail(400, f"JSON parse error - {error}")
    serializer = (AITransformSerializer if kind == "transform" else AITranslateSerializer)(
        data=data if isinstance(data, dict) else {}
    )
    if not serializer.is_valid():
        return Answer(400, dict(serializer.errors))
    try:
        user = docs_session.user_for(found)
    except AuthError as error:  # ensure_active: the only refusal of a found identity
        return _error("account_disabled", str(error.detail), 403)
    except ValueError:
        return _error("docs_session_invalid", _("Docs' account for this session cannot be used here."), 401)
    legacy = (
        pipeline.docs_legacy.transform_request(serializer.validated_data["action"], serializer.validated_data["text"])
        if kind == "transform"
        else pipeline.docs_legacy.translate_request(
            serializer.validated_data["language"], serializer.validated_data["text"]
        )
    )
    if legacy is None:
        language = serializer.validated_data["language"]
        return Answer(400, {"language": [f'"{language}" is not a valid choice.']})
    try:
        prepared = pipeline.prepare(
            user=user,
            document_id=document_id,
            action=legacy.action,
            input=legacy.input,
            options=legacy.options,
            caller=pipeline.Caller(pipeline.CallerKind.DOCS_SESSION, session),
        )
    except pipeline.ActionRequestError as error:
        return _error(error.code, error.message, error.status, **error.extra)
    throttled = _throttle(user, document_id)
    if throttled is not None:
        return throttled
    if quotas.enabled():
        try:
            check_quotas(user, document_id, prepared.input_tokens, None)
        except APIError as error:
            return _error(error.code, error.message, error.status_code, **error.extra)
    job, _created = services.submit(
        services.Submission(
            owner=user,
            document_id=document_id,
            action=prepared.action,
            options=prepared.options,
            input=prepared.input,
            credentials=prepared.credentials,
            reserved_tokens=prepared.input_tokens,
        )
    )
    return Admitted(str(job.id), kind)


def rate_wait(user_id: Any, document_id: uuid.UUID) -> tuple[str, float] | None:
    """Docs' AIUserRateThrottle and AIDocumentRateThrottle, their rates as settings: one count per
    user and per document for the three AI paths together, as in Docs. The scope used up and the
    seconds to wait, or None."""
    waits = [
        (scope, wait)
        for scope, wait in (
            ("user", _over_rate("user", str(user_id), settings.SUITE_AI_DOCS_AI_USER_RATES)),
            ("document", _over_rate("document", str(document_id), settings.SUITE_AI_DOCS_AI_DOCUMENT_RATES)),
        )
        if wait is not None
    ]
    return max(waits, key=lambda found: found[1]) if waits else None


def _throttle(user: User, document_id: uuid.UUID) -> Answer | None:
    found = rate_wait(user.pk, document_id)
    if found is None:
        return None
    seconds = max(1, math.ceil(found[1]))
    return _detail(429, exceptions.Throttled(seconds).detail, [("Retry-After", str(seconds))])


def _docs_unavailable() -> Answer:
    return _error("docs_unavailable", _("Docs could not be reached to check the session; try again shortly."), 503)


def answer_for(kind: str, status: str, data: dict[str, Any]) -> Answer:
    """The HTTP answer for the job's terminal event (``done``, ``failed``, ``cancelled``)."""
    if status == JobStatus.SUCCEEDED:
        markdown = str((data.get("result") or {}).get("markdown") or "")
        answer = markdown if kind == "transform" else pipeline.docs_legacy.translate_answer(markdown)
        return Answer(200, {"answer": answer})
    if status == JobStatus.FAILED:
        error = data.get("error") or {}
        return Answer(502, {"code": str(error.get("code") or "job_failed"), "message": str(error.get("message"))})
    return _error("job_cancelled", _("The request was cancelled before it finished."), 409)


def _timeout() -> Answer:
    return _error(
        "ai_timeout",
        _("The model did not answer within %(seconds)d seconds; try again.")
        % {"seconds": settings.SUITE_AI_DOCS_AI_WAIT},
        504,
    )


def _cancel(job_id: str) -> None:
    job = Job.objects.filter(id=job_id).first()
    if job is not None:
        with contextlib.suppress(services.JobAlreadyFinished):
            services.request_cancel(job)


# --- Under the ASGI server ------------------------------------------------------------------------


def _admit_in(language: str, *args: Any) -> Answer | Admitted:
    with translation.override(language):
        return admit(*args)


def _cancel_in(job_id: str) -> None:
    _cancel(job_id)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}
    language = language_for(headers.get("accept-language", ""))
    with translation.override(language):
        answer = await _serve(scope, receive, headers, language)
    body = json.dumps(answer.body, ensure_ascii=False).encode()
    response_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"content-language", language.encode("ascii")),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers),
    ]
    if answer.status == 401:
        response_headers.append((b"www-authenticate", b'Session realm="api"'))
    await send({"type": "http.response.start", "status": answer.status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})


async def _serve(scope: Scope, receive: Receive, headers: dict[str, str], language: str) -> Answer:
    match = PATH.match(scope["path"])
    assert match is not None
    body = await _read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if body is None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _error(
            "input_too_large",
            _("The request body exceeds the limit of %(limit)d bytes.") % {"limit": limit},
            413,
            limit_bytes=limit,
        )
    cookies = parse_cookie(headers.get("cookie", ""))
    hub = streams.hub()
    outcome = await hub.openings.run(
        _admit_in, language, match["kind"], match["pk"], scope["method"], headers, cookies, body
    )
    if isinstance(outcome, Answer):
        return outcome
    follower = hub.join(outcome.job_id, 0)
    watcher = asyncio.create_task(_watch_disconnect(receive, follower))
    try:
        await hub.ready(follower)
        terminal = await _wait(follower)
    finally:
        hub.leave(follower)
        watcher.cancel()
    if terminal is None:
        # The browser left, or waited too long: the model's work is no longer wanted.
        await hub.openings.run(_cancel_in, outcome.job_id)
        return _timeout()
    data = json.loads(
        failures.localize_event(terminal.data) if terminal.kind == JobEvent.Kind.FAILED else terminal.data
    )
    return answer_for(outcome.kind, str(data.get("status")), data)


async def _wait(follower: streams.Follower) -> streams.StreamEvent | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.SUITE_AI_DOCS_AI_WAIT
    while not follower.gone:
        for event in follower.take():
            if event.terminal:
                return event
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await follower.wake.wait()
    return None


async def _watch_disconnect(receive: Receive, follower: streams.Follower) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    follower.leave()


# --- Under a WSGI server or the test client ---------------------------------------------------------


@csrf_exempt  # checked against Docs' cookie and origin in ``admit``, as Docs checks it
def docs_ai_view(request: HttpRequest, document_id: str, kind: str) -> HttpResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _json(
            _error(
                "input_too_large",
                _("The request body exceeds the limit of %(limit)d bytes.") % {"limit": limit},
                413,
                limit_bytes=limit,
            )
        )
    headers = {name.lower(): value for name, value in request.headers.items()}
    outcome = admit(kind, document_id, request.method or "GET", headers, dict(request.COOKIES), request.body)
    if isinstance(outcome, Answer):
        return _json(outcome)
    deadline = time.monotonic() + settings.SUITE_AI_DOCS_AI_WAIT
    while time.monotonic() < deadline:
        row = Job.objects.filter(id=outcome.job_id).values("status", "result", "error_code", "error_message").first()
        if row is not None and row["status"] in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            data = {"status": row["status"], "result": row["result"] or {}}
            if row["status"] == JobStatus.FAILED:
                data["error"] = failures.describe(row["error_code"], row["error_message"])
            return _json(answer_for(kind, row["status"], data))
        time.sleep(POLL_INTERVAL)
    _cancel(outcome.job_id)
    return _json(_timeout())


def _json(answer: Answer) -> HttpResponse:
    response = JsonResponse(answer.body, status=answer.status, json_dumps_params={"ensure_ascii": False})
    for name, value in answer.headers:
        response[name] = value
    if answer.status == 401:
        response["WWW-Authenticate"] = 'Session realm="api"'
    return response
