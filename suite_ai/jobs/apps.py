import logging

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_finished, request_started

logger = logging.getLogger("suite_ai.settings")


class JobsConfig(AppConfig):
    name = "suite_ai.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks are @shared_task: until suite_ai.celery is imported, ``apply_async`` in a web
        # process would send through Celery's default app (an AMQP broker on localhost), not ours.
        import suite_ai.celery  # noqa: F401
        from suite_ai.jobs import services

        # After Django's own receivers (connected when django.db is imported): a request's jobs
        # are sent once its database connection is closed.
        request_started.connect(services.request_started, dispatch_uid="suite_ai.jobs.request_started")
        request_finished.connect(services.request_finished, dispatch_uid="suite_ai.jobs.request_finished")

        # Values the settings corrected (MISTRAL_SERVER_URL ending in /v1): said once per process,
        # at start, where logging is configured; never once per job.
        for warning in getattr(settings, "CONFIGURATION_WARNINGS", ()):
            logger.warning("%s", warning)
