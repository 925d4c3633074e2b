"""Docs' ``ai-proxy`` (BlockNote's AI extension) served by suite_ai at Docs' own path: see
``endpoint`` (the ASGI endpoint), ``blocknote_ai`` (what Docs does with the request, ported),
``access`` (who may, and how often) and ``usage`` (the tokens, in the usage ledger)."""
