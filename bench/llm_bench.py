"""Model engine benchmark (long inputs, rate limits), in one run, against the fake Mistral server.

1. A ~100,000-token document summarized end to end with a 2 s model: parallel map + log-depth
   reduce, against a sequential baseline (one call at a time) measured in the same run.
   Target: ≤ 3 × a single call's latency.
2. Tokens sent / document tokens (target ≤ 1.15 + prompt overhead).
3. 100 queued jobs under a 60 requests/min contract, the fake gateway enforcing it with 429s:
   throughput holds at the limit and no 429 reaches the model. The minute is scaled down
   (SUITE_AI_BENCH_WINDOW) to keep the run short; the limiter and the fake use the same window.

Usage: .venv/bin/python bench/llm_bench.py
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suite_ai.llm import ratelimit  # noqa: E402
from suite_ai.llm.chunking import Segment  # noqa: E402
from suite_ai.llm.engine import Callbacks, LongInputEngine, Plan  # noqa: E402
from suite_ai.llm.gateway import Gateway, LLMSettings  # noqa: E402
from suite_ai.llm.ratelimit import Limits, RateLimiter  # noqa: E402
from suite_ai.llm.tokens import count_tokens  # noqa: E402
from tests.fakes.mistral_server import FakeMistralServer  # noqa: E402

PARAGRAPH = (
    "Le rapport présente l'activité du service au cours de l'année : instruction des demandes, "
    "contrôle des dépenses, accompagnement des collectivités et modernisation des outils. "
    "Les indicateurs montrent une baisse des délais et une hausse de la satisfaction des usagers. "
)


class Store:
    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def checkpoint_get(self, key: str) -> str | None:
        return self.saved.get(key)

    def checkpoint_put(self, key: str, output: str, usage: dict[str, Any]) -> None:
        self.saved[key] = output


def document(target_tokens: int) -> list[Segment]:
    segments: list[Segment] = []
    tokens = 0
    section = 0
    while tokens < target_tokens:
        section += 1
        title = f"Partie {section}"
        segments.append(Segment(f"## {title}", f"h{section}", (title,)))
        for paragraph in range(4):
            text = f"{title}, paragraphe {paragraph}. " + PARAGRAPH * 3
            segments.append(Segment(text, f"p{section}-{paragraph}", (title,)))
            tokens += count_tokens(text)
    return segments


def summarize(model: FakeMistralServer, segments: list[Segment], parallel: int) -> tuple[float, int, int]:
    gateway = Gateway(LLMSettings(api_key=model.api_key, server_url=model.url))
    engine = LongInputEngine(
        gateway, RateLimiter(Limits()), Store(), Callbacks(on_delta=lambda t: None, on_call=lambda r, s: None)
    )
    model.reset_stats()
    started = time.monotonic()
    outcome = engine.run("summarize", segments, {}, Plan("m", 8000, 500_000, max_parallel=parallel))
    elapsed = time.monotonic() - started
    sent = sum(
        count_tokens(message["content"]) for request in model.requests for message in request["body"]["messages"]
    )
    return elapsed, len(model.requests), sent


def main() -> None:
    results: dict[str, Any] = {}
    with FakeMistralServer(latency=2.0) as model:
        segments = document(100_000)
        doc_tokens = sum(count_tokens(s.text) for s in segments)
        single = Gateway(LLMSettings(api_key=model.api_key, server_url=model.url))
        started = time.monotonic()
        single.stream_chat([{"role": "user", "content": "Bonjour."}], model="m", on_delta=lambda t: None)
        single_latency = time.monotonic() - started
        parallel_time, calls, sent = summarize(model, segments, parallel=16)
        map_calls = calls - 1
        map_sent = sum(
            count_tokens(m["content"]) for r in model.requests[:map_calls] for m in r["body"]["messages"]
        )
        sequential_time, _, _ = summarize(model, segments, parallel=1)
        results.update(
            doc_tokens=doc_tokens,
            single_call_s=single_latency,
            parallel_s=parallel_time,
            sequential_s=sequential_time,
            calls=calls,
            ratio_to_single=parallel_time / single_latency,
            speedup=sequential_time / parallel_time,
            sent_ratio=sent / doc_tokens,
            map_sent_ratio=map_sent / doc_tokens,
        )

    # 3. 100 jobs under a 60/min contract; a scaled minute keeps the run short.
    window = 6.0
    ratelimit.WINDOW = window + 0.1
    with FakeMistralServer(latency=0.2, requests_per_minute=60) as model:
        model.window = window  # type: ignore[attr-defined]
        limiter = RateLimiter(Limits(requests_per_minute=60), "redis://127.0.0.1:6379/4", prefix=f"bench:{time.time()}")
        gateway = Gateway(LLMSettings(api_key=model.api_key, server_url=model.url))
        done: list[float] = []
        lock = threading.Lock()

        def job() -> None:
            while True:  # what a re-scheduled Celery job does: come back when the limiter says
                wait = limiter.acquire("m", 50)
                if wait <= 0:
                    break
                time.sleep(wait)
            gateway.stream_chat([{"role": "user", "content": "Texte."}], model="m", on_delta=lambda t: None)
            with lock:
                done.append(time.monotonic())

        started = time.monotonic()
        threads = [threading.Thread(target=job) for _ in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        results.update(
            limit_jobs=len(done),
            limit_elapsed_s=elapsed,
            limit_rate_per_window=len(done) / elapsed * window,
            limit_429=model.rate_limited,
        )

    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| document | {results['doc_tokens']} tokens, {results['calls']} calls | ~100,000 |")
    print(f"| single call latency | {results['single_call_s']:.2f} s | 2 s model |")
    print(
        f"| end to end, parallel map + reduce | {results['parallel_s']:.2f} s = "
        f"{results['ratio_to_single']:.2f} × one call | ≤ 3 × |"
    )
    print(f"| sequential baseline | {results['sequential_s']:.2f} s (parallel is {results['speedup']:.1f}× faster) | |")
    print(
        f"| tokens sent / document tokens | {results['sent_ratio']:.3f} all calls, "
        f"{results['map_sent_ratio']:.3f} map calls | ≤ 1.15 + prompt overhead |"
    )
    print(
        f"| 100 jobs under 60 req/min (minute scaled to {window:.0f} s) | {results['limit_rate_per_window']:.1f} "
        f"req per window, {results['limit_429']} × 429 | 60, 0 × 429 |"
    )


if __name__ == "__main__":
    main()
