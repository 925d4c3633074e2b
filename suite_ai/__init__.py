"""suite_ai: the AI assistant service for La Suite Docs."""

from suite_ai.celery import app as celery_app

__all__ = ["celery_app"]
