"""Pickup latency of the embedded broker: from a message written (``put``) to its delivery in a
consumer process waiting for it, with the consumers woken by a datagram (ours) and with kombu's
own loop, which sleeps the polling interval after each empty look (``polling_interval`` 0.05 s,
``SUITE_AI_BROKER_POLL_INTERVAL``'s default).

A consumer process per variant (a worker, in production) drains its connection; this process
writes one message at a time, each after a random pause (the consumer is waiting, as an idle
worker is when a job is submitted), and the variants alternate message by message. Both clocks
are ``time.monotonic()``, one clock for every process on Linux.

Usage: .venv/bin/python bench/pickup_bench.py [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu import Connection  # noqa: E402

from bench.service_bench import percentile  # noqa: E402
from suite_ai.jobs import transports  # noqa: E402

TRANSPORT = "suite_ai.jobs.transports:FilesystemTransport"
WOKEN, POLLED = "woken by a datagram (ours)", "polled every 0.05 s (kombu's loop)"


def options(folder: Path, woken: bool) -> dict[str, Any]:
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    queue = str(folder / "queue")
    found: dict[str, Any] = {"data_folder_in": queue, "data_folder_out": queue, "polling_interval": 0.05}
    if woken:
        found[transports.WAKE_FOLDER] = str(folder / "wake")
    return found


def consume(transport_options: dict[str, Any], ready: Any, out: Any) -> None:
    with Connection("filesystem://", transport=TRANSPORT, transport_options=transport_options) as connection:
        queue = connection.SimpleQueue("jobs")
        ready.set()
        while True:
            message = queue.get(block=True, timeout=3600)
            received = time.monotonic()
            if message.payload is None:
                return
            out.put(received - message.payload)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200, help="per variant")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not transports.OVERRIDES_ACTIVE:
        sys.exit(f"kombu {transports.kombu_version()} is not {transports.WRITTEN_FOR}: nothing to compare")
    context = multiprocessing.get_context("spawn")
    root = Path(tempfile.mkdtemp(prefix="pickup-"))
    variants = {WOKEN: options(root / "woken", True), POLLED: options(root / "polled", False)}
    consumers, producers, results = {}, {}, {}
    for name, transport_options in variants.items():
        ready, results[name] = context.Event(), context.Queue()
        consumers[name] = context.Process(target=consume, args=(transport_options, ready, results[name]))
        consumers[name].start()
        ready.wait(30)
        producers[name] = Connection("filesystem://", transport=TRANSPORT, transport_options=transport_options)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    rng = random.Random(1)
    for _ in range(args.messages):
        order = list(variants)
        rng.shuffle(order)
        for name in order:
            time.sleep(rng.uniform(0.02, 0.12))  # the consumer has found nothing and waits
            producers[name].SimpleQueue("jobs").put(time.monotonic())
            samples[name].append(results[name].get(timeout=30) * 1000)
    for name in variants:
        producers[name].SimpleQueue("jobs").put(None)
        consumers[name].join(30)
        producers[name].release()
    figures = {
        name: {
            "p50_ms": round(statistics.median(values), 2),
            "p90_ms": round(percentile(values, 90), 2),
            "max_ms": round(max(values), 2),
            "messages": len(values),
        }
        for name, values in samples.items()
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
