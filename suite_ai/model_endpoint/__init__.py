"""A Mistral- and OpenAI-compatible model endpoint (``/v1/chat/completions``) for Docs' backend:
service tokens, the shared model limiter, ``Retry-After`` retries, routing across upstreams, and
usage per calling service. Served under ASGI only (``suite_ai.asgi``)."""
