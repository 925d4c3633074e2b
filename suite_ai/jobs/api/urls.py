from django.urls import path
from rest_framework.routers import SimpleRouter

from suite_ai.jobs.api import docs_ai, events, schema, views

router = SimpleRouter()
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = [
    path("actions/", views.ActionCatalogueView.as_view(), name="action-catalogue"),
    path("documents/<str:document_id>/actions/", views.DocumentActionView.as_view(), name="document-actions"),
    path(
        "jobs/<uuid:pk>/events/",
        schema.documented_by(schema.JobEventsSchemaView)(events.job_events),
        name="job-events",
    ),
    path("usage/", views.UsageView.as_view(), name="usage"),
    # Docs' own AI paths (served here for an unmodified Docs frontend; under ASGI, docs_ai.serve).
    path(
        "documents/<str:document_id>/ai-transform/",
        docs_ai.docs_ai_view,
        {"kind": "transform"},
        name="docs-ai-transform",
    ),
    path(
        "documents/<str:document_id>/ai-translate/",
        docs_ai.docs_ai_view,
        {"kind": "translate"},
        name="docs-ai-translate",
    ),
    *router.urls,
]
