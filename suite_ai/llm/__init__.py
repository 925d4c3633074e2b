"""The model engine: a plain library (no Django, no Docs).

- ``config.LLMSettings``: models (default, long, per action), context windows, chunk size, limits,
  timeouts; the caller builds it (the service from its Django settings).
- ``gateway.get_gateway(settings) -> Gateway``: one shared, thread-safe mistralai client per process;
  ``stream_chat`` returns a ``ChatResult``.
- ``errors.ModelError(code, message, retryable, retry_after)``; ``retry_delay(error, attempt)``.
- ``prompts.PROMPTS``: one versioned prompt per action, with its kind (synthesis or transform);
  ``build_prompt`` (+ map/reduce).
- ``tokens``: offline tekken counts, free estimates, ``Calibration`` from API usage.
- ``chunking.chunk_segments``; ``engine.LongInputEngine`` (parallel map, log-depth reduce,
  checkpoints, progress, cancellation); ``ratelimit.RateLimiter`` (Redis, shared);
  ``usage.CallUsage`` / ``usage.JobUsage``; ``extractive`` (TextRank, offline).

Submodules are imported explicitly (``from suite_ai.llm.gateway import …``): importing the package
itself costs nothing.
"""
