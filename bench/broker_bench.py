"""CPU per message of the Redis broker transport, with and without our one-client-per-channel override.

Every round publishes ``--messages`` messages through kombu's public API, consumes and acks them,
once with the override (``suite_ai.jobs.transports.OVERRIDES_ACTIVE``) and once with kombu's own
channel, in a shuffled order; the figure is the median over rounds of this process's CPU per
message (publish + delivery + ack), and of the ratio kombu's / ours within a round.

Usage: .venv/bin/python bench/broker_bench.py [--broker redis://127.0.0.1:6379/7] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu import Connection, Exchange, Queue  # noqa: E402

from bench.performance_doc import broker_block  # noqa: E402
from suite_ai.jobs import transports  # noqa: E402

OURS, KOMBU = "one client per channel (ours)", "a client per message (kombu's)"


def cpu_per_message(broker: str, messages: int) -> float:
    name = f"bench-{uuid.uuid4()}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key="job")
    with Connection(broker, transport="suite_ai.jobs.transports:RedisTransport") as connection:
        connection.ensure_connection()
        with connection.channel() as channel:
            producer = connection.Producer(channel)
            queue(channel).declare()
            started = time.process_time()
            for n in range(messages):
                producer.publish({"job": str(uuid.UUID(int=n))}, exchange=queue.exchange, routing_key="job")
            with connection.Consumer(queue, channel=channel, callbacks=[lambda body, message: message.ack()]):
                consumed = 0
                while consumed < messages:
                    connection.drain_events(timeout=10)
                    consumed += 1
            elapsed = time.process_time() - started
            queue(channel).delete()
    return elapsed / messages * 1000


def measure(broker: str, rounds: int, messages: int, seed: int) -> dict[str, Any]:
    configs = {OURS: True, KOMBU: False}
    samples: dict[str, list[float]] = {name: [] for name in configs}
    rng = random.Random(seed)
    for active in configs.values():  # warm-up
        transports.OVERRIDES_ACTIVE = active
        cpu_per_message(broker, 50)
    for _ in range(rounds):
        order = list(configs)
        rng.shuffle(order)
        for name in order:
            transports.OVERRIDES_ACTIVE = configs[name]
            samples[name].append(cpu_per_message(broker, messages))
    transports.OVERRIDES_ACTIVE = transports.overrides_apply(transports.kombu_version())
    ratios = [k / o for k, o in zip(samples[KOMBU], samples[OURS], strict=True)]
    return {
        "ours_ms_per_message": statistics.median(samples[OURS]),
        "kombu_ms_per_message": statistics.median(samples[KOMBU]),
        "kombu_over_ours_median": statistics.median(ratios),
        "kombu_over_ours_min": min(ratios),
        "kombu_over_ours_max": max(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not transports.OVERRIDES_ACTIVE:
        sys.exit(f"kombu {transports.kombu_version()} is not {transports.WRITTEN_FOR}: nothing to compare")
    results = measure(args.broker, args.rounds, args.messages, args.seed)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print(broker_block(results))


if __name__ == "__main__":
    main()
