"""The Celery application. Tasks carry job ids only; the job rows are the truth.

Workers and beat name it explicitly (``celery -A suite_ai.celery worker``); Django processes import
it from ``JobsConfig.ready`` so that ``apply_async`` publishes through it. Nothing else imports it:
``suite_ai/__init__.py`` stays empty so the plain libraries never load Celery or Django.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_ready

from suite_ai.runtime import settle_garbage_collector
from suite_ai.startup import fail, load_settings, service_problems

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
# Settings load here, not lazily inside Celery's start-up: a bad variable gives one line and exit
# status 2, not a traceback. (In a Django process they are loaded already: nothing happens.)
load_settings()

app = Celery("suite_ai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["suite_ai.jobs"])


@worker_ready.connect
def _settle(**_: object) -> None:
    settle_garbage_collector()


@worker_init.connect
def _check_services(**_: object) -> None:
    # A worker without its database would take jobs and fail every one of them: refuse to start,
    # in one line (an orchestrator restarts it; `manage.py serve` does, with a growing delay).
    problems = service_problems()
    if problems:
        fail("; ".join(problems))
