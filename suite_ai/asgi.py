"""ASGI entry point: the event stream is an async view, so idle SSE clients hold no thread."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
application = get_asgi_application()
