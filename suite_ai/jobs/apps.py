from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "suite_ai.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks are @shared_task: until suite_ai.celery is imported, ``apply_async`` in a web
        # process would send through Celery's default app (an AMQP broker on localhost), not ours.
        import suite_ai.celery  # noqa: F401
