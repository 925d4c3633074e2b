"""suite_ai: the AI assistant service for La Suite Docs.

Deliberately empty: ``llm``, ``blocknote`` and ``lasuite_docs`` are plain libraries, and importing
one of them must not load Celery, kombu or Django through this package. The Celery application is
``suite_ai.celery`` (``celery -A suite_ai.celery``); Django processes load it in ``JobsConfig.ready``.
"""
