from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from suite_ai.jobs.api import operations

API = "api/v1.0/"

urlpatterns = [
    path(API, include("suite_ai.jobs.api.urls")),
    path(f"{API}schema/", SpectacularAPIView.as_view(), name="schema"),
    # Our template: drf-spectacular's, its inline start-up script carrying the CSP nonce.
    path(
        f"{API}swagger/",
        SpectacularSwaggerView.as_view(url_name="schema", template_name="jobs/swagger_ui.html"),
        name="swagger-ui",
    ),
    # Our template: drf-spectacular's loads Google Fonts; ours loads nothing from elsewhere.
    path(f"{API}redoc/", SpectacularRedocView.as_view(template_name="jobs/redoc.html"), name="redoc"),
    path("health/live", operations.live, name="health-live"),
    path("health/ready", operations.ready, name="health-ready"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("playground/", include("suite_ai.playground.urls")),
]

# Django's own error pages, as JSON errors in the API's shape (suite_ai/api_errors.py).
handler400 = "suite_ai.api_errors.bad_request_view"
handler403 = "suite_ai.api_errors.permission_denied_view"
handler404 = "suite_ai.api_errors.not_found_view"
handler500 = "suite_ai.api_errors.server_error_view"
