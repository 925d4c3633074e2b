"""The engine's configuration: a plain frozen dataclass the caller builds (the service fills it from
its Django settings, in ``suite_ai.pipeline.model.llm_settings``).

Models: a default model for editor actions and a ``long`` model for notes and inputs that need
a long context, each overridable per action. Context windows: known Mistral models have theirs
built in; ``context_tokens`` (MISTRAL_CONTEXT_TOKENS) overrides the default for every model and
``context_tokens_by_model`` a single one. The map chunk size (SUITE_AI_CHUNK_TOKENS) is its own
setting: a document longer than one chunk is mapped in parallel even when it would fit one
window, because eight 8k-token calls side by side finish sooner than one 64k-token call and each
sees its part with full attention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from suite_ai.llm.prompts import TaskKind, prompt_for
from suite_ai.llm.ratelimit import Limits

# Windows of models we know (prefix match on the model name). Others: ``DEFAULT_CONTEXT_TOKENS``.
KNOWN_CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("codestral", 256_000),
    ("devstral", 128_000),
    ("magistral", 40_000),
    ("mistral-small", 128_000),
    ("mistral-medium", 128_000),
    ("mistral-large", 128_000),
    ("ministral", 128_000),
    ("open-mistral-nemo", 128_000),
    ("pixtral", 128_000),
)
DEFAULT_CONTEXT_TOKENS = 32_000  # a safe guess for unknown (e.g. self-hosted vLLM/Albert) models
# System prompt, delimiters, heading context and chat framing: a bound above what our templates
# produce, so that a chunk sized with it never pushes the answer out of the window.
PROMPT_OVERHEAD_TOKENS = 600
OUTPUT_RESERVE_TOKENS = 4_096  # room left in the window for a summary/note answer


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class LLMSettings:
    api_key: str = ""
    server_url: str | None = None  # base URL without /v1 (Albert API, vLLM…); None: Mistral's API
    model: str = "mistral-small-latest"
    model_long: str = "mistral-large-latest"
    action_models: Mapping[str, str] = field(default_factory=dict, hash=False)  # SUITE_AI_ACTION_MODELS
    context_tokens: int | None = None  # MISTRAL_CONTEXT_TOKENS: every model's window
    # MISTRAL_CONTEXT_TOKENS_BY_MODEL: one model's window, over ``context_tokens``
    context_tokens_by_model: Mapping[str, int] = field(default_factory=dict, hash=False)
    chunk_tokens: int = 8_000  # SUITE_AI_CHUNK_TOKENS: map chunk size
    max_input_tokens: int = 400_000  # hard limit on one job's input
    map_concurrency: int = 16  # calls of one job in flight at once
    requests_per_minute: int = 0  # SUITE_AI_MODEL_RPM, shared by all workers (0: none)
    tokens_per_minute: int = 0  # SUITE_AI_MODEL_TPM
    limits_by_model: Mapping[str, Limits] = field(default_factory=dict, hash=False)  # SUITE_AI_MODEL_LIMITS
    redis_url: str | None = None  # REDIS_URL: the shared limiter; None: in-process
    timeout_s: float = 120.0  # MISTRAL_TIMEOUT: max gap between bytes (read/write/pool)
    connect_timeout_s: float = 10.0
    max_connections: int = 1024  # httpx's default of 100 would queue a 256-thread worker
    temperature: float | None = 0.2
    lang: str | None = None  # SUITE_AI_PROMPT_LANG (fr|en); None: fr unless the text is clearly English

    def __post_init__(self) -> None:
        for name in ("action_models", "context_tokens_by_model", "limits_by_model"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.server_url and self.server_url.rstrip("/").endswith("/v1"):
            raise ValueError("server_url must be the base URL, without /v1 (the SDK adds /v1/chat/completions)")

    def connection_key(self) -> tuple[object, ...]:
        """What a client (connection pool) depends on: settings equal here share one client."""
        return (self.api_key, self.server_url, self.timeout_s, self.connect_timeout_s, self.max_connections)

    def model_for(self, action: str, *, input_tokens: int | None = None) -> str:
        """The action's model: its override; else ``model_long`` for the actions whose prompt asks
        for it (notes) and for inputs longer than one chunk (they need a map-reduce, whose synthesis
        the larger model does better; set MISTRAL_MODEL_LONG to MISTRAL_MODEL to opt out); else the
        default model."""
        if action in self.action_models:
            return self.action_models[action]
        if prompt_for(action).long_model or (input_tokens is not None and input_tokens > self.chunk_tokens):
            return self.model_long
        return self.model

    def context_window(self, model: str) -> int:
        if model in self.context_tokens_by_model:
            return int(self.context_tokens_by_model[model])
        if self.context_tokens:
            return self.context_tokens
        name = model.rsplit("/", 1)[-1].lower()
        for prefix, window in KNOWN_CONTEXT_WINDOWS:
            if name.startswith(prefix):
                return window
        return DEFAULT_CONTEXT_TOKENS

    def chunk_budget(self, model: str, action: str) -> int:
        """Tokens of document per call: the chunk size, capped so that prompt and answer fit the
        window with a margin (a transform's answer is as long as its input)."""
        room = self.context_window(model) - PROMPT_OVERHEAD_TOKENS
        room = room // 2 if prompt_for(action).kind is TaskKind.TRANSFORM else room - OUTPUT_RESERVE_TOKENS
        return max(256, min(self.chunk_tokens, int(room * 0.9)))

    def limits(self) -> Limits:
        return Limits(requests_per_minute=self.requests_per_minute, tokens_per_minute=self.tokens_per_minute)
