"""The Celery application. Tasks carry job ids only; the job rows are the truth.

Workers and beat name it explicitly (``celery -A suite_ai.celery worker``); Django processes import
it from ``JobsConfig.ready`` so that ``apply_async`` publishes through it. Nothing else imports it:
``suite_ai/__init__.py`` stays empty so the plain libraries never load Celery or Django.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

from suite_ai.runtime import settle_garbage_collector

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")

app = Celery("suite_ai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["suite_ai.jobs"])


@worker_ready.connect
def _settle(**_: object) -> None:
    settle_garbage_collector()
