"""Run one action over an input of any length: one call, or chunks mapped in parallel then reduced
hierarchically in document order.

- A short input (at most one chunk) is one streamed call.
- Synthesis actions (summarize, note: ``TaskKind.SYNTHESIS`` in ``prompts.PROMPTS``) on a long
  input: every chunk is mapped in parallel (bounded by ``Plan.max_parallel``), partial results are
  merged by neighbouring groups that fit one call (each level at least halves their number: log
  depth, order kept), and one final call applies the action to the ordered partials. Only that
  final call streams.
- Transform actions (rephrase, translate, …: ``TaskKind.TRANSFORM``) on a long input: each chunk
  is transformed and the results are concatenated in order, streamed as soon as the next chunk in
  order is ready.

Every finished map/merge/reduce call is checkpointed through the caller's ``CheckpointStore``
under a key made of its stage, index and a digest of its exact input, prompt version and model,
so a job retried after a crash, a 429 or a cancelled worker re-sends (and re-pays) nothing it
already has. ``should_cancel()`` is checked before every call. The engine never sleeps to retry:
failures are ``ModelError`` with retry hints for the caller to re-schedule.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from suite_ai.llm.chunking import Chunk, Segment, chunk_segments
from suite_ai.llm.config import LLMSettings
from suite_ai.llm.errors import INPUT_TOO_LARGE, Cancelled, ModelError
from suite_ai.llm.gateway import Gateway
from suite_ai.llm.prompts import Prompt, TaskKind, build_map_prompt, build_prompt, build_reduce_prompt, prompt_for
from suite_ai.llm.ratelimit import RateLimiter
from suite_ai.llm.threads import run_parallel
from suite_ai.llm.tokens import CALIBRATION, count_tokens, estimate_tokens, fits
from suite_ai.llm.usage import CallUsage, JobUsage

__all__ = [
    "Callbacks",
    "Cancelled",
    "CheckpointStore",
    "LongInputEngine",
    "MemoryCheckpointStore",
    "Outcome",
    "Plan",
    "plan_for",
]

RATE_LIMIT_MAX_WAIT = 20.0  # seconds a fanned-out call may wait for the limiter before re-scheduling
MAX_MERGE_LEVELS = 8


class CheckpointStore(Protocol):
    """Implemented by the caller (the job engine keeps checkpoints in its database)."""

    def checkpoint_get(self, key: str) -> str | None: ...

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None: ...


class MemoryCheckpointStore:
    """A checkpoint store in memory (tests, benchmarks, one-shot scripts)."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self.usage: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def checkpoint_get(self, key: str) -> str | None:
        return self.saved.get(key)

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None:
        with self._lock:
            self.saved[key] = output
            self.usage[key] = usage


def _nothing(*args: Any) -> None:
    return None


@dataclass
class Callbacks:
    on_delta: Callable[[str], None] = _nothing  # streamed text of the final answer
    on_call: Callable[[CallUsage], None] = _nothing  # each model call made (not those answered from checkpoints)
    on_progress: Callable[[int, int], None] = _nothing  # (done, total) calls, checkpointed ones included
    should_cancel: Callable[[], bool] = lambda: False


@dataclass
class Plan:
    model: str
    chunk_tokens: int = 8_000  # tokens of document per call
    max_input_tokens: int = 400_000  # hard limit: input_too_large beyond
    max_parallel: int = 16  # calls of this job in flight at once
    attempt: int = 1  # the job's attempt number, recorded in usage
    lang: str | None = None  # language of the instructions (default: options["lang"] or fr)
    rate_limit_wait: float = RATE_LIMIT_MAX_WAIT


def plan_for(settings: LLMSettings, action: str, input_tokens: int | None = None, attempt: int = 1) -> Plan:
    """The plan the settings give for ``action``: its model, a chunk size that fits that model's
    window with a margin, the hard limit and the fan-out."""
    model = settings.model_for(action, input_tokens=input_tokens)
    return Plan(
        model=model,
        chunk_tokens=settings.chunk_budget(model, action),
        max_input_tokens=settings.max_input_tokens,
        max_parallel=settings.map_concurrency,
        attempt=attempt,
        lang=settings.lang,
    )


@dataclass
class Outcome:
    text: str
    chunks: int = 1
    prompt_version: str = ""
    usage: JobUsage = field(default_factory=JobUsage)  # every call, those answered from checkpoints included
    first_delta_ms: int | None = None  # from run() to the first streamed delta
    levels: int = 0  # intermediate merge levels


class LongInputEngine:
    """One engine per job run (it accumulates that run's outcome). Thread-safe inside the run."""

    def __init__(
        self,
        gateway: Gateway,
        limiter: RateLimiter,
        store: CheckpointStore,
        callbacks: Callbacks | None = None,
    ) -> None:
        self.gateway = gateway
        self.limiter = limiter
        self.store = store
        self.callbacks = callbacks or Callbacks()
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._started = time.monotonic()
        self.plan = Plan("")
        self.outcome = Outcome(text="")

    # --- one call ------------------------------------------------------------------------------

    def _key(self, prompt: Prompt, stage: str, index: int) -> str:
        payload = json.dumps([prompt.version, self.plan.model, prompt.messages], ensure_ascii=False)
        return f"{stage}:{index}:{hashlib.sha256(payload.encode()).hexdigest()[:40]}"

    def _on_first_delta(self, stream_to: Callable[[str], None]) -> Callable[[str], None]:
        def forward(text: str) -> None:
            if self.outcome.first_delta_ms is None:
                self.outcome.first_delta_ms = round((time.monotonic() - self._started) * 1000)
            stream_to(text)

        return forward

    def _call(
        self,
        prompt: Prompt,
        stage: str,
        index: int = 0,
        *,
        stream_to: Callable[[str], None] | None = None,
        checkpoint: bool = True,
    ) -> str:
        """One model call, or its checkpoint. A lone call (``checkpoint=False``) is not allowed to
        wait for the rate limiter: the job is re-scheduled instead of holding a thread."""
        key = self._key(prompt, stage, index) if checkpoint else ""
        cached = self.store.checkpoint_get(key) if checkpoint else None
        if cached is not None:
            self.outcome.usage.add(CallUsage(model=self.plan.model, stage=stage, index=index, reused=True))
            if stream_to is not None:
                self._on_first_delta(stream_to)(cached)
            self._advance()
            return cached
        if self.callbacks.should_cancel():
            raise Cancelled()
        estimate = sum(estimate_tokens(m["content"]) for m in prompt.messages)
        cost = CALIBRATION.adjust(self.plan.model, estimate)
        if checkpoint:
            self.limiter.acquire_within(self.plan.model, cost, self.plan.rate_limit_wait, self.callbacks.should_cancel)
        else:
            self.limiter.acquire_within(self.plan.model, cost, 0)
        result = self.gateway.stream_chat(
            prompt.messages,
            model=self.plan.model,
            on_delta=self._on_first_delta(stream_to) if stream_to is not None else _nothing,
        )
        if not result.usage_estimated:
            CALIBRATION.observe(self.plan.model, estimate, result.prompt_tokens)
        usage = result.usage(stage, index, self.plan.attempt)
        self.outcome.usage.add(usage)
        self.callbacks.on_call(usage)
        if checkpoint:
            self.store.checkpoint_put(key, result.text, usage.to_dict())
        self._advance()
        return result.text

    def _advance(self, more_total: int = 0) -> None:
        with self._lock:
            if more_total:
                self._total += more_total
            else:
                self._done += 1
            done, total = self._done, max(self._total, self._done)
        self.callbacks.on_progress(done, total)

    def _parallel(self, jobs: Sequence[Callable[[], str]]) -> list[str]:
        """Run calls with bounded concurrency, results in order (see ``threads.run_parallel``)."""
        return run_parallel(jobs, self.plan.max_parallel)

    # --- the plan ------------------------------------------------------------------------------

    def run(self, action: str, segments: Sequence[Segment], options: dict[str, Any] | None, plan: Plan) -> Outcome:
        self.plan = plan
        self._started = time.monotonic()
        options = dict(options or {})
        if plan.lang and "lang" not in options:
            options["lang"] = plan.lang
        items = list(segments)
        text = "\n\n".join(s.text for s in items)
        budget = min(plan.chunk_tokens, plan.max_input_tokens)
        if len(text.encode("utf-8", "surrogatepass")) <= budget:  # fits for sure: no tokenizer needed
            chunks = [Chunk(0, items)]
        else:
            counts: dict[str, int] = {}

            def count(piece: str) -> int:
                if piece not in counts:
                    counts[piece] = count_tokens(piece)
                return counts[piece]

            total = sum(count(s.text) + 2 for s in items) - 2
            if total > plan.max_input_tokens:
                raise ModelError(
                    INPUT_TOO_LARGE,
                    f"The document is about {total} tokens; the limit is {plan.max_input_tokens}.",
                )
            chunks = chunk_segments(items, plan.chunk_tokens, count) if total > plan.chunk_tokens else [Chunk(0, items)]
        self.outcome.chunks = len(chunks)
        if len(chunks) <= 1:
            prompt = build_prompt(action, text, options)
            self.outcome.prompt_version = prompt.version
            self._advance(more_total=1)
            self.outcome.text = self._call(prompt, "single", stream_to=self.callbacks.on_delta, checkpoint=False)
        elif prompt_for(action).kind is TaskKind.SYNTHESIS:
            self._map_reduce(action, chunks, options)
        else:
            self._map_concat(action, chunks, options)
        return self.outcome

    def _map(self, action: str, chunk: Chunk, total: int, options: dict[str, Any]) -> str:
        prompt = build_map_prompt(action, chunk.text, chunk.context, options, position=(chunk.index, total))
        return self._call(prompt, "map", chunk.index)

    def _map_reduce(self, action: str, chunks: list[Chunk], options: dict[str, Any]) -> None:
        self._advance(more_total=len(chunks) + 1)
        partials = self._parallel(
            [functools.partial(self._map, action, chunk, len(chunks), options) for chunk in chunks]
        )
        level = 0
        # Merge neighbours until everything fits one final call: log depth, document order kept.
        while len(partials) > 1 and not fits("\n\n".join(partials), self.plan.chunk_tokens):
            groups = _groups(partials, self.plan.chunk_tokens)
            if len(groups) == len(partials) or level >= MAX_MERGE_LEVELS:
                break  # nothing left to pair: the final call takes them as they are
            level += 1
            self._advance(more_total=len(groups))
            partials = self._parallel(
                [
                    functools.partial(
                        self._call, build_reduce_prompt(action, group, options, final=False), f"merge{level}", i
                    )
                    for i, group in enumerate(groups)
                ]
            )
        self.outcome.levels = level
        prompt = build_reduce_prompt(action, partials, options, final=True)
        self.outcome.prompt_version = prompt.version
        self.outcome.text = self._call(prompt, "reduce", stream_to=self.callbacks.on_delta)

    def _map_concat(self, action: str, chunks: list[Chunk], options: dict[str, Any]) -> None:
        self._advance(more_total=len(chunks))
        self.outcome.prompt_version = build_prompt(action, "", options).version
        ready: dict[int, str] = {}
        next_to_stream = 0
        lock = threading.Lock()
        stream = self._on_first_delta(self.callbacks.on_delta)

        def transform(chunk: Chunk) -> str:
            nonlocal next_to_stream
            output = self._call(build_prompt(action, chunk.text, options), "map", chunk.index)
            with lock:  # stream results in document order as soon as the next one is ready
                ready[chunk.index] = output
                while next_to_stream in ready:
                    stream(("\n\n" if next_to_stream else "") + ready.pop(next_to_stream))
                    next_to_stream += 1
            return output

        outputs = self._parallel([functools.partial(transform, chunk) for chunk in chunks])
        self.outcome.text = "\n\n".join(outputs)


def _groups(partials: list[str], budget: int) -> list[list[str]]:
    """Neighbouring partials grouped so that each group fits ``budget`` tokens (at least two per
    group, so every level at least halves their number)."""
    groups: list[list[str]] = [[]]
    used = 0
    for partial in partials:
        tokens = count_tokens(partial) + 30  # its delimiters
        if groups[-1] and used + tokens > budget and len(groups[-1]) >= 2:
            groups.append([])
            used = 0
        groups[-1].append(partial)
        used += tokens
    if len(groups) > 1 and len(groups[-1]) == 1:  # a lone tail would cost a call for nothing
        groups[-2].extend(groups.pop())
    return groups
