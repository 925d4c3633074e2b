"""suite_ai's routes plus one that crashes with document text in hand, for the error-reporting tests
(``ROOT_URLCONF`` overridden); Django's error views stay suite_ai's own."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from suite_ai import urls


class CrashView(APIView):
    """A bug in a view: it fails on the text it was sent, and its exception quotes that text."""

    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        markdown = request.data["markdown"]
        raise RuntimeError(f"cannot summarize {markdown!r}")


urlpatterns = [*urls.urlpatterns, path("crash/", CrashView.as_view())]
handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
