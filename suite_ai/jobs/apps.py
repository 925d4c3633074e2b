import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("suite_ai.settings")


class JobsConfig(AppConfig):
    name = "suite_ai.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks are @shared_task: until suite_ai.celery is imported, ``apply_async`` in a web
        # process would send through Celery's default app (an AMQP broker on localhost), not ours.
        import suite_ai.celery  # noqa: F401

        # Values the settings corrected (MISTRAL_SERVER_URL ending in /v1): said once per process,
        # at start, where logging is configured; never once per job.
        for warning in getattr(settings, "CONFIGURATION_WARNINGS", ()):
            logger.warning("%s", warning)
