"""What the OpenAPI document says beyond what drf-spectacular reads from the DRF views: how to
authenticate (a bearer token, so that Swagger UI's "Authorize" works), and the event stream, an
async Django view that drf-spectacular cannot see by itself."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from suite_ai.jobs.api.serializers import JOB_EVENT_SERIALIZERS, ErrorSerializer


class BearerScheme(OpenApiAuthenticationExtension):
    """The one security scheme of the API. Only the local-token class is named here (the other
    authentication classes are left out of the schema by AUTHENTICATION_WHITELIST): all three
    read the same ``Authorization: Bearer`` header."""

    target_class = "suite_ai.accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An OIDC access token of La Suite's identity provider (as for Docs); "
                "a service token of the Docs backend, with the X-Suite-AI-User-Sub and X-Suite-AI-User-Email "
                "headers naming the user; or, in development, a local token from `manage.py create_token`."
            ),
        }


EVENTS_DESCRIPTION = """\
Server-Sent Events (`text/event-stream`): the job's events in order, each as

```
id: 12
event: delta
data: {"text": "# Minutes\\n\\nThe"}
```

| event | data |
|---|---|
| `status` | `{"status": "queued", "retry_in": 2.5, "reason": "model_rate_limited"}`: queued again, for `retry_in` s |
| `progress` | `{"done": 3, "total": 14}`: parts of a long job done |
| `delta` | `{"text": "…"}`: the next piece of the output, to append |
| `discard` | `{"reason": "model_unavailable", "attempt": 1}`: drop the text streamed so far, then append anew |
| `done` | `{"status": "succeeded", "result": JobResult}`, last event |
| `failed` | `{"status": "failed", "error": {"code", "message"}}`, last event |
| `cancelled` | `{"status": "cancelled"}`, last event |

A `discard` comes when the attempt that streamed the text so far was cut (the model went down
mid-answer, the worker was lost) and the job is retried: the next attempt streams the output
again from its start.

The stream opens with `retry: 2000`, sends a `: keep-alive` comment when idle, and closes after
the last event or after a maximum duration; EventSource then reconnects with `Last-Event-ID` and
the stream resumes after that event. The response schema below is one event, its three lines as
one object.
"""


class JobEventsSchemaView(APIView):
    """Describes ``GET /api/v1.0/jobs/{id}/events/`` in the schema; requests are served by
    ``suite_ai.jobs.api.events.job_events`` (see ``documented_by``)."""

    @extend_schema(
        operation_id="jobs_events",
        summary="Follow a job live (Server-Sent Events)",
        description=EVENTS_DESCRIPTION,
        tags=["jobs"],
        parameters=[
            OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter(
                "Last-Event-ID",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                description="resume after this event id (EventSource sends it when it reconnects)",
            ),
            OpenApiParameter("last_event_id", OpenApiTypes.INT, description="the same, for clients without headers"),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                response=PolymorphicProxySerializer(
                    component_name="JobEvent", serializers=JOB_EVENT_SERIALIZERS, resource_type_field_name="event"
                ),
                description="the event stream",
                examples=[
                    OpenApiExample(
                        "A short job",
                        media_type="text/event-stream",
                        value=(
                            "retry: 2000\n\n"
                            'id: 1\nevent: delta\ndata: {"text":"Le budget a été adopté"}\n\n'
                            'id: 2\nevent: done\ndata: {"status":"succeeded","result":{"markdown":"…"}}\n\n'
                        ),
                    )
                ],
            ),
            401: OpenApiResponse(ErrorSerializer, description="not_authenticated"),
            404: OpenApiResponse(ErrorSerializer, description="not_found: no such job of the caller's"),
        },
    )
    def get(self, request: Request, pk: str) -> Response:
        raise MethodNotAllowed("GET")  # never routed here: see documented_by


View = TypeVar("View", bound=Callable[..., Any])


def documented_by(schema_view: type[APIView]) -> Callable[[View], View]:
    """Serve a Django view (sync or async) as it is, documented by a DRF view class: DRF's
    ``as_view()`` marks its views with ``cls``, which is how the schema generator finds and
    describes them."""

    def attach(view: View) -> View:
        endpoint: Any
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def endpoint(*args: Any, **kwargs: Any) -> Any:
                return await view(*args, **kwargs)

        else:

            @functools.wraps(view)
            def endpoint(*args: Any, **kwargs: Any) -> Any:
                return view(*args, **kwargs)

        endpoint.cls = schema_view
        endpoint.initkwargs = {}
        return cast(View, endpoint)

    return attach
