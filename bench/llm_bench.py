"""Model engine benchmark, in one run, against the fake Mistral server (real HTTP, the real SDK).

1. Long input: a ~100,000-token report summarized end to end with a 2 s model (every call takes
   2 s before its first byte): parallel map + log-depth reduce, against a sequential baseline
   (``max_parallel=1``) measured in the same run. Target: ≤ 3 × a single call's latency.
2. Tokens sent (every message of every call, counted with tekken) / document tokens.
   Target: ≤ 1.15 × document tokens + prompt overhead.
3. Shared rate limit: 100 queued single-call jobs under a contract of 60 requests per minute
   that the fake gateway enforces with 429s. The minute is scaled down to ``--window`` seconds
   (default 6 s: 60 requests per 6 s, the same contract ten times faster) for the limiter and for
   the fake alike, so the run takes seconds, not minutes. Each job runs the engine's real path:
   when the limiter says wait, the job gets ``model_rate_limited`` + ``retry_after`` and is
   "re-scheduled" (its thread sleeps ``retry_delay()``, as a Celery countdown would) — no worker
   thread ever waits inside a call. Target: throughput at the limit, zero 429 from the model.
4. One process, one shared client: 256 threads streaming through one gateway (fake server in a
   separate process, so only our CPU is measured): calls in flight at once and CPU per call.

Usage: .venv/bin/python bench/llm_bench.py [--latency 2] [--window 6] [--redis redis://127.0.0.1:6379/4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suite_ai.llm.chunking import Segment  # noqa: E402
from suite_ai.llm.config import LLMSettings  # noqa: E402
from suite_ai.llm.engine import Callbacks, LongInputEngine, MemoryCheckpointStore, Plan  # noqa: E402
from suite_ai.llm.errors import ModelError, retry_delay  # noqa: E402
from suite_ai.llm.gateway import Gateway  # noqa: E402
from suite_ai.llm.ratelimit import Limits, RateLimiter  # noqa: E402
from suite_ai.llm.tokens import count_tokens  # noqa: E402
from tests.fakes.mistral_server import FakeMistralServer  # noqa: E402

PARAGRAPH = (
    "Le service instructeur a examiné les {n} dossiers de demande de subvention déposés au titre de "
    "l'appel à projets régional. Les crédits engagés atteignent quatre-vingt-douze pour cent de "
    "l'enveloppe votée, et les délais de traitement ont diminué de onze jours en moyenne. Le comité "
    "souligne la hausse des demandes d'accompagnement dans les territoires ruraux et recommande de "
    "renforcer les équipes de proximité avant la fin de l'exercice."
)


def report(target_tokens: int) -> list[Segment]:
    """A long administrative report, section after section, of about ``target_tokens`` tokens."""
    per_section = count_tokens("## Section 001\n\n" + "\n\n".join(PARAGRAPH.format(n=i) for i in range(6)))
    segments: list[Segment] = []
    for section in range(1, target_tokens // per_section + 1):
        title = f"Section {section:03d}"
        segments.append(Segment(f"## {title}", f"h{section}", (title,)))
        segments.extend(
            Segment(f"{title}. " + PARAGRAPH.format(n=section * 10 + i), f"p{section}-{i}", (title,)) for i in range(6)
        )
    return segments


def summarize(gateway: Gateway, model: FakeMistralServer, segments: list[Segment], parallel: int) -> dict[str, Any]:
    model.reset_stats()
    engine = LongInputEngine(gateway, RateLimiter(Limits()), MemoryCheckpointStore(), Callbacks())
    started = time.monotonic()
    outcome = engine.run("summarize", segments, {}, Plan("mistral-small-latest", 8000, 500_000, max_parallel=parallel))
    elapsed = time.monotonic() - started
    sent = [sum(count_tokens(m["content"]) for m in r["body"]["messages"]) for r in model.requests]
    return {
        "elapsed": elapsed,
        "first_delta": (outcome.first_delta_ms or 0) / 1000,
        "calls": len(model.requests),
        "chunks": outcome.chunks,
        "levels": outcome.levels,
        "sent": sum(sent),
        "map_sent": sum(sent[: outcome.chunks]),
        "max_in_flight": model.stats()["max_in_flight"],
    }


def rate_limited_jobs(window: float, jobs: int, redis_url: str) -> dict[str, Any]:
    with FakeMistralServer(latency=0.2, requests_per_minute=60, rate_window=window) as model:
        gateway = Gateway(LLMSettings(api_key=model.api_key, server_url=model.url))
        limiter = RateLimiter(
            Limits(requests_per_minute=60, period_s=window), redis_url, prefix=f"bench:{os.getpid()}:{time.time()}"
        )
        finished: list[float] = []
        reschedules: list[int] = []
        lock = threading.Lock()
        started = time.monotonic()

        def job(index: int) -> None:
            attempt = 0
            while True:
                engine = LongInputEngine(gateway, limiter, MemoryCheckpointStore(), Callbacks())
                try:
                    engine.run("rephrase", [Segment(f"Texte numéro {index} à reformuler.")], {}, Plan("m"))
                    break
                except ModelError as error:
                    delay = retry_delay(error, attempt)
                    if delay is None:
                        raise
                    attempt += 1
                    time.sleep(delay)  # stands for the Celery countdown: the task is re-scheduled
            with lock:
                finished.append(time.monotonic() - started)
                reschedules.append(attempt)

        threads = [threading.Thread(target=job, args=(i,)) for i in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        starts = sorted(r["at"] for r in model.requests)
        busiest = max(sum(1 for t in starts if s <= t < s + window) for s in starts)
        return {
            "jobs": len(finished),
            "elapsed": time.monotonic() - started,
            "first_window": sum(1 for t in finished if t <= window),
            "second_window": sum(1 for t in finished if window < t <= 2 * window),
            "busiest_window": busiest,
            "requests": len(model.requests),
            "model_429": model.rate_limited,
            "reschedules": sum(reschedules),
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shared_client(threads: int, calls_per_thread: int) -> dict[str, Any]:
    """The fake in another process, so that process_time() counts only the client's CPU."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.mistral_server", "--port", str(port), "--latency", "1", "--chunks", "8"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "fake Mistral on …": it is listening
        url = f"http://127.0.0.1:{port}"
        gateway = Gateway(LLMSettings(api_key="fake-mistral-key", server_url=url, timeout_s=30))
        messages = [{"role": "user", "content": "Le conseil a voté le budget primitif à l'unanimité."}]
        gateway.stream_chat(messages, model="m", on_delta=lambda text: None)  # warm-up: imports, first connection
        errors: list[BaseException] = []

        def work() -> None:
            for _ in range(calls_per_thread):
                try:
                    gateway.stream_chat(messages, model="m", on_delta=lambda text: None)
                except BaseException as error:
                    errors.append(error)

        cpu, wall = time.process_time(), time.monotonic()
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        with urllib.request.urlopen(f"{url}/_stats") as response:
            stats = json.load(response)
        calls = threads * calls_per_thread
        return {
            "calls": calls,
            "errors": len(errors),
            "wall": wall,
            "max_in_flight": stats["max_in_flight"],
            "cpu_ms_per_call": cpu / calls * 1000,
        }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model call")
    parser.add_argument("--tokens", type=int, default=100_000, help="document size")
    parser.add_argument("--window", type=float, default=6.0, help="the rate-limit minute, scaled down")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4", help="'' for the in-process limiter")
    args = parser.parse_args()

    segments = report(args.tokens)
    doc_tokens = sum(count_tokens(s.text) for s in segments)
    with FakeMistralServer(latency=args.latency, chunks=8) as model:
        gateway = Gateway(LLMSettings(api_key=model.api_key, server_url=model.url, timeout_s=60))
        started = time.monotonic()
        gateway.stream_chat([{"role": "user", "content": "Bonjour."}], model="m", on_delta=lambda text: None)
        single = time.monotonic() - started
        parallel = summarize(gateway, model, segments, parallel=16)
        sequential = summarize(gateway, model, segments, parallel=1)
    overhead = parallel["sent"] - doc_tokens
    limited = rate_limited_jobs(args.window, args.jobs, args.redis or "")
    client = shared_client(threads=256, calls_per_thread=2)

    rows = [
        ("document", f"{doc_tokens:,} tokens, {parallel['chunks']} chunks of ≤ 8,000", ""),
        ("one call (fake model)", f"{single:.2f} s", ""),
        (
            "summary, parallel map + reduce",
            f"{parallel['elapsed']:.2f} s = {parallel['elapsed'] / single:.2f} × one call "
            f"({parallel['calls']} calls, {parallel['levels']} merge levels, {parallel['max_in_flight']} in flight)",
            "≤ 3 ×",
        ),
        ("first streamed delta", f"{parallel['first_delta']:.2f} s", ""),
        (
            "summary, sequential baseline",
            f"{sequential['elapsed']:.2f} s = {sequential['elapsed'] / single:.1f} × one call",
            "(baseline)",
        ),
        ("speed-up", f"{sequential['elapsed'] / parallel['elapsed']:.1f} ×", ""),
        (
            "tokens sent / document tokens",
            f"{parallel['sent'] / doc_tokens:.3f} (map calls alone {parallel['map_sent'] / doc_tokens:.3f}; "
            f"prompt overhead {overhead:,} tokens = {overhead / parallel['calls']:.0f} per call)",
            "≤ 1.15 + overhead",
        ),
        (
            f"{limited['jobs']} jobs, 60 req/min contract (minute scaled to {args.window:g} s)",
            f"{limited['first_window']} done in the 1st window, {limited['second_window']} in the 2nd; "
            f"busiest window {limited['busiest_window']} requests; {limited['jobs']} in {limited['elapsed']:.1f} s",
            "60 per window",
        ),
        (
            "  429s reaching the model / re-schedules",
            f"{limited['model_429']} / {limited['reschedules']} (requests sent: {limited['requests']})",
            "0 × 429",
        ),
        (
            "one process, 256 threads, one client",
            f"max {client['max_in_flight']} calls in flight, {client['calls']} calls in {client['wall']:.1f} s, "
            f"{client['errors']} errors",
            "≥ 200 in flight",
        ),
        ("  client CPU per streamed call", f"{client['cpu_ms_per_call']:.2f} ms", "≪ 8 ms/job"),
    ]
    print("| measure | value | target |")
    print("|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
