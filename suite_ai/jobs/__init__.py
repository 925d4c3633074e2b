"""Jobs: the Job model and its state machine, the REST API, the Celery tasks, the reconciler."""
