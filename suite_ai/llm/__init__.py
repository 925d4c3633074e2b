"""The model engine: a plain library (no Django, no Docs).

- ``config.LLMSettings``: models (default, long, per action), context windows, chunk size, limits,
  timeouts; ``LLMSettings.from_env()`` reads the MISTRAL_* / SUITE_AI_* variables.
- ``gateway.get_gateway(settings) -> Gateway``: one shared, thread-safe mistralai client per process;
  ``stream_chat`` / ``chat`` / ``astream_chat`` / ``achat`` return a ``ChatResult``.
- ``errors.ModelError(code, message, retryable, retry_after)``; ``retry_delay(error, attempt)``.
- ``prompts.build_prompt`` (+ map/reduce), versioned.
- ``tokens``: offline tekken counts, free estimates, ``Calibration`` from API usage.
- ``chunking.chunk_segments``; ``engine.LongInputEngine`` (parallel map, log-depth reduce,
  checkpoints, progress, cancellation); ``ratelimit.RateLimiter`` (Redis, shared);
  ``usage.JobUsage``; ``extractive`` (TextRank, offline).

Submodules are imported explicitly (``from suite_ai.llm.gateway import …``): importing the package
itself costs nothing.
"""
