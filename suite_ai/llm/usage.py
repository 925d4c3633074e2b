"""Usage accounting: one record per model call (or per chunk answered from a checkpoint), and
their aggregate for a job — which model served what, at what token cost and latency. Plain
dataclasses the caller persists (``to_dict`` is JSON-ready)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CallUsage:
    model: str
    stage: str  # single | map | merge | reduce | transform
    index: int = 0  # chunk / node index within the stage
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    ttft_ms: int | None = None
    attempts: int = 1  # the job attempt that made this call (1 = first)
    reused: bool = False  # answered from a checkpoint: not re-sent, not re-paid
    finish_reason: str = ""
    usage_estimated: bool = False  # the gateway sent no usage; tokens are our estimate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobUsage:
    """Aggregate for one job; thread-safe to ``add`` from map workers."""

    engine: str = "model"  # model | extractive
    calls: list[CallUsage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, call: CallUsage) -> None:
        with self._lock:
            self.calls.append(call)

    @property
    def paid(self) -> list[CallUsage]:
        return [c for c in self.calls if not c.reused]

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.paid)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.paid)

    @property
    def models(self) -> list[str]:
        return sorted({c.model for c in self.paid})

    def to_dict(self) -> dict[str, Any]:
        paid = self.paid
        final = next((c for c in reversed(self.calls) if c.stage in ("single", "reduce")), None)
        return {
            "engine": self.engine,
            "model": final.model if final else (paid[-1].model if paid else ""),
            "models": self.models,
            "calls": len(paid),
            "reused_calls": len(self.calls) - len(paid),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "model_time_ms": sum(c.latency_ms for c in paid),
            "ttft_ms": final.ttft_ms if final else None,
            "usage_estimated": any(c.usage_estimated for c in paid),
            "by_stage": {
                stage: {
                    "calls": sum(1 for c in paid if c.stage == stage),
                    "prompt_tokens": sum(c.prompt_tokens for c in paid if c.stage == stage),
                    "completion_tokens": sum(c.completion_tokens for c in paid if c.stage == stage),
                }
                for stage in sorted({c.stage for c in paid})
            },
        }
