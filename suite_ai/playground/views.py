"""``/playground/``: one page, the editor's built bundle (static files) and its configuration."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from suite_ai.playground import services

# One fixed document: the playground's jobs are listed together (GET /jobs/?document=…).
DOCUMENT_ID = uuid.UUID("5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5")
LANGUAGES = ("fr", "en")


@never_cache  # the page carries a token
@require_GET
def playground(request: HttpRequest) -> HttpResponse:
    if not settings.SUITE_AI_PLAYGROUND:
        raise Http404("the playground is turned off (SUITE_AI_PLAYGROUND)")
    locale = request.GET.get("lang", "fr")
    if locale not in LANGUAGES:
        locale = "fr"
    config = {
        "apiBase": request.build_absolute_uri("/api/v1.0/")[:-1],
        "token": services.issue_token(),
        "documentId": str(DOCUMENT_ID),
        "locale": locale,
        "user": services.PLAYGROUND_USER,
        "otherLocaleUrl": reverse("playground") + ("?lang=en" if locale == "fr" else "?lang=fr"),
    }
    return render(request, "playground/index.html", {"config": config, "locale": locale})
