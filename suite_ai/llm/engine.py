"""Long inputs: chunks mapped in parallel, then reduced hierarchically, in document order.

Every finished call is checkpointed under a key derived from its exact input, so a job retried
after a crash or a 429 storm re-pays nothing it already has. Only the last call streams.

- synthesis actions (summarize, note): map each chunk, merge partials by groups that fit one
  call (log depth), then one final streamed call applies the action to the merged partials;
- transform actions (rephrase, translate, correct, …): each chunk is transformed, and the
  results are concatenated in order (streamed as soon as the next chunk in order is ready).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from suite_ai.llm.chunking import Chunk, Segment, chunk_segments
from suite_ai.llm.errors import ModelError
from suite_ai.llm.gateway import ChatResult, Gateway
from suite_ai.llm.prompts import (
    SYNTHESIS_ACTIONS,
    Prompt,
    build_map_prompt,
    build_prompt,
    build_reduce_prompt,
)
from suite_ai.llm.ratelimit import RateLimiter
from suite_ai.llm.tokens import count_tokens, estimate_tokens

RATE_LIMIT_MAX_WAIT = 20.0
MAX_MERGE_LEVELS = 6  # seconds a fan-out call may wait for the limiter before re-scheduling


class Cancelled(Exception):
    """The caller asked to stop; no further call is made."""


class CheckpointStore(Protocol):
    def checkpoint_get(self, key: str) -> str | None: ...

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None: ...


@dataclass
class Callbacks:
    on_delta: Callable[[str], None]
    on_call: Callable[[ChatResult, str], None]
    on_progress: Callable[[int, int], None] = lambda done, total: None
    should_cancel: Callable[[], bool] = lambda: False


@dataclass
class Plan:
    model: str
    chunk_tokens: int
    max_input_tokens: int
    max_parallel: int = 8


@dataclass
class Outcome:
    text: str
    calls: list[ChatResult] = field(default_factory=list)
    reused: int = 0  # calls answered from checkpoints
    chunks: int = 1
    prompt_version: str = ""


class LongInputEngine:
    def __init__(self, gateway: Gateway, limiter: RateLimiter, store: CheckpointStore, callbacks: Callbacks) -> None:
        self.gateway = gateway
        self.limiter = limiter
        self.store = store
        self.callbacks = callbacks
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self.outcome = Outcome(text="")

    # --- one call ------------------------------------------------------------------------------

    def _call(
        self, prompt: Prompt, stage: str, *, stream_to: Callable[[str], None] | None = None, single: bool = False
    ) -> str:
        """One model call. A lone call is neither checkpointed (there is nothing else to keep) nor
        allowed to wait for the rate limiter: the job is re-scheduled instead."""
        digest = hashlib.sha256(json.dumps([prompt.messages, self.plan.model], ensure_ascii=False).encode())
        key = f"{stage}:{digest.hexdigest()[:32]}"
        cached = None if single else self.store.checkpoint_get(key)
        if cached is not None:
            with self._lock:
                self.outcome.reused += 1
            if stream_to is not None:
                stream_to(cached)
            self._advance()
            return cached
        if self.callbacks.should_cancel():
            raise Cancelled()
        tokens = sum(estimate_tokens(m["content"]) for m in prompt.messages)
        self.limiter.acquire_within(self.plan.model, tokens, 0 if single else RATE_LIMIT_MAX_WAIT)
        result = self.gateway.stream_chat(
            prompt.messages, model=self.plan.model, on_delta=stream_to or (lambda text: None)
        )
        with self._lock:
            self.outcome.calls.append(result)
        self.callbacks.on_call(result, stage.split(":", maxsplit=1)[0])
        if not single:
            usage = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}
            self.store.checkpoint_put(key, result.text, usage)
            self._advance()
        return result.text

    def _advance(self, more_total: int = 0) -> None:
        with self._lock:
            self._done += 1 if not more_total else 0
            self._total += more_total
            done, total = self._done, max(self._total, self._done)
        self.callbacks.on_progress(done, total)

    def _parallel(self, jobs: list[Callable[[], str]]) -> list[str]:
        """Run calls with bounded concurrency; the first error stops new calls and is raised."""
        if len(jobs) == 1:
            return [jobs[0]()]
        results: list[str | None] = [None] * len(jobs)
        with ThreadPoolExecutor(max_workers=min(self.plan.max_parallel, len(jobs))) as pool:
            futures: dict[Future[str], int] = {pool.submit(job): i for i, job in enumerate(jobs)}
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
            for future, i in futures.items():
                results[i] = future.result()
        return [r or "" for r in results]

    # --- the plan ------------------------------------------------------------------------------

    def run(self, action: str, segments: list[Segment], options: dict[str, Any], plan: Plan) -> Outcome:
        self.plan = plan
        text = "\n\n".join(s.text for s in segments)
        # The estimate errs high: when it fits, the exact count (and loading the tokenizer) is not needed.
        if estimate_tokens(text) <= plan.chunk_tokens:
            chunks = [Chunk(0, list(segments))]
        else:
            total_tokens = sum(count_tokens(s.text) for s in segments)
            if total_tokens > plan.max_input_tokens:
                raise ModelError(
                    "input_too_large",
                    f"The document is about {total_tokens} tokens; the limit is {plan.max_input_tokens}.",
                )
            chunks = chunk_segments(segments, plan.chunk_tokens, count_tokens)
        self.outcome.chunks = len(chunks)
        if len(chunks) <= 1:
            prompt = build_prompt(action, text, options)
            self.outcome.text = self._call(prompt, "single", stream_to=self.callbacks.on_delta, single=True)
            self.outcome.prompt_version = prompt.version
        elif action in SYNTHESIS_ACTIONS:
            self._map_reduce(action, chunks, options)
        else:
            self._map_concat(action, chunks, options)
        return self.outcome

    def _map(self, action: str, chunk: Chunk) -> str:
        return self._call(build_map_prompt(action, _text(chunk), chunk.context), f"map:{chunk.index}")

    def _map_reduce(self, action: str, chunks: list[Chunk], options: dict[str, Any]) -> None:
        self._advance(more_total=len(chunks) + 1)
        partials = self._parallel([functools.partial(self._map, action, chunk) for chunk in chunks])
        level = 0
        # Merge neighbours until everything fits one final call: log depth, document order kept.
        while sum(count_tokens(p) for p in partials) > self.plan.chunk_tokens and len(partials) > 1:
            groups = _groups(partials, self.plan.chunk_tokens)
            if len(groups) == len(partials) or level >= MAX_MERGE_LEVELS:
                break  # nothing left to pair: the final call takes them as they are
            level += 1
            self._advance(more_total=len(groups))
            partials = self._parallel(
                [
                    functools.partial(
                        self._call, build_reduce_prompt(action, group, options, final=False), f"merge:{level}:{i}"
                    )
                    for i, group in enumerate(groups)
                ]
            )
        prompt = build_reduce_prompt(action, partials, options, final=True)
        self.outcome.text = self._call(prompt, "reduce", stream_to=self.callbacks.on_delta)
        self.outcome.prompt_version = prompt.version

    def _map_concat(self, action: str, chunks: list[Chunk], options: dict[str, Any]) -> None:
        self._advance(more_total=len(chunks))
        ready: dict[int, str] = {}
        next_to_stream = 0
        lock = threading.Lock()

        def transform(chunk: Chunk) -> str:
            nonlocal next_to_stream
            text = self._call(build_prompt(action, _text(chunk), options), f"map:{chunk.index}")
            with lock:  # stream results in document order as soon as the next one is ready
                ready[chunk.index] = text
                while next_to_stream in ready:
                    self.callbacks.on_delta(("\n\n" if next_to_stream else "") + ready[next_to_stream])
                    next_to_stream += 1
            return text

        outputs = self._parallel([functools.partial(transform, chunk) for chunk in chunks])
        self.outcome.text = "\n\n".join(outputs)
        self.outcome.prompt_version = build_prompt(action, "", options).version


def _text(chunk: Chunk) -> str:
    return "\n\n".join(segment.text for segment in chunk.segments)


def _groups(partials: list[str], budget: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    used = 0
    for partial in partials:
        tokens = count_tokens(partial)
        if groups[-1] and used + tokens > budget and len(groups[-1]) >= 2:
            groups.append([])
            used = 0
        groups[-1].append(partial)
        used += tokens
    if len(groups) > 1 and len(groups[-1]) == 1:  # a lone tail would cost a call for nothing
        groups[-2].extend(groups.pop())
    return groups
