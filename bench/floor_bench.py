"""The least CPU a followed result can cost on the service's stack, against the 9 ms target.

A followed result (bench/sse_bench.py's closed loop) is: a submission request, a message through
the broker, one streamed model call, the job's database statements, and an event stream request.
Each of those has a cost the service cannot go below while it uses the libraries it is built on
(Django and DRF, uvicorn, kombu under Celery, the mistralai SDK, psycopg), whatever our code does
around them. This adds them up, each at its best measured figure:

- the two HTTP requests, doing nothing else (bench/floor_app.py: the service's own web stack with
  no authentication, database, broker or model), measured here: closed loop, ``--clients``
  clients, each submitting then following its stream to ``done`` (2 s later), for ``--seconds``;
  CPU of the web process per result;
- one streamed model call through the gateway, with every SDK patch (bench/sdk_bench.py, the
  fake's default stream: what the closed loop's jobs get);
- one broker message published, delivered and acked, kombu with our Redis channel
  (bench/broker_bench.py; Celery's task protocol on top of it is not counted);
- the job's statements as hand-written SQL, on Postgres (bench/db_bench.py), as many times as a
  followed job runs them.

What is left out makes the true floor higher, never lower: Celery's task machinery, the claim as
an UPDATE (counted as a read), the audit record, the throttles' and the limiter's Redis calls, the
event notifications, the ticket, and every check the service does.

The three focused figures are read from ``var/bench/{sdk-patches,raw-sql,redis-client}.json``
(``make bench`` writes them just before); a missing one is measured first.

Usage: .venv/bin/python bench/floor_bench.py [--clients 64] [--seconds 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.performance_doc import floor_block  # noqa: E402
from bench.service_bench import cpu_seconds, percentile  # noqa: E402
from tests.support.processes import ManagedProcess, free_port  # noqa: E402

OUT = ROOT / "var" / "bench"
FOCUSED = {"sdk-patches": "sdk_bench.py", "raw-sql": "db_bench.py", "redis-client": "broker_bench.py"}
SDK_SHAPE = "8 content chunks"  # what the fake model streams to the closed loop's jobs
TARGET_MS = 9.0


async def _cycle(session: aiohttp.ClientSession, url: str, latencies: list[float], errors: list[str]) -> None:
    started = time.perf_counter()
    body = {"action": "rephrase", "input": {"markdown": "Une phrase à reformuler."}}
    async with session.post(f"{url}/floor/documents/{uuid.uuid4()}/actions/", json=body) as response:
        answer = await response.json()
        if response.status != 202:
            errors.append(f"submit {response.status}")
            return
    async with session.get(url + answer["links"]["events"]) as stream:
        text = await stream.text()
    if stream.status != 200 or "event: done" not in text:
        errors.append(f"events {stream.status}")
        return
    latencies.append(time.perf_counter() - started)


async def _closed_loop(url: str, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        await asyncio.sleep(index * 0.5 / clients)
        while time.perf_counter() < stop_at:
            try:
                await asyncio.wait_for(_cycle(session, url, latencies, errors), timeout=30)
            except (aiohttp.ClientError, TimeoutError) as error:
                errors.append(type(error).__name__)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(client(session, i) for i in range(clients)))
    return latencies, errors


def http_floor(clients: int, seconds: float) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "suite_ai.settings",
            "DJANGO_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "SUITE_AI_DATA_DIR": str(OUT / "floor-data"),
            "SUITE_AI_LOG_LEVEL": "WARNING",
        }
    )
    port = free_port()
    web = ManagedProcess(
        "floor-web",
        [sys.executable, "-m", "uvicorn", "bench.floor_app:application", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "info"],
        env, OUT,
    )  # fmt: skip
    try:
        web.wait_for_log("Application startup complete")
        url = f"http://127.0.0.1:{port}"
        asyncio.run(_closed_loop(url, clients // 2, 5.0))  # warm-up, not measured
        before = cpu_seconds(web.process.pid)
        started = time.perf_counter()
        latencies, errors = asyncio.run(_closed_loop(url, clients, seconds))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(web.process.pid) - before
    finally:
        web.stop()
    return {
        "clients": clients,
        "results": len(latencies),
        "results_per_second": len(latencies) / elapsed,
        "p50_s": percentile(latencies, 50),
        "web_cpu_ms_per_result": cpu / max(1, len(latencies)) * 1000,
        "errors": len(errors),
    }


def focused(name: str) -> dict[str, Any]:
    path = OUT / f"{name}.json"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / FOCUSED[name]), "--json", str(path)], check=True)
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def floor(http: dict[str, Any]) -> dict[str, Any]:
    model_call = focused("sdk-patches")[SDK_SHAPE]["all patches"]["cpu_ms_median"]
    parts = [
        ("the submission and the event stream, doing nothing else (web)", http["web_cpu_ms_per_result"]),
        ("one streamed model call, every SDK patch on", model_call),
        ("one broker message published, delivered and acked (kombu)", focused("redis-client")["ours_ms_per_message"]),
    ]
    for name, row in focused("raw-sql").items():
        parts.append((f"{name} as hand-written SQL, ×{row['per_job']}", row["raw_ms"] * row["per_job"]))
    total = sum(ms for _, ms in parts)
    return {"http": http, "parts": [{"part": name, "ms": ms} for name, ms in parts], "total_ms": total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = floor(http_floor(args.clients, args.seconds))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print(floor_block(results))
    print(f"\ntarget: {TARGET_MS:g} ms of server CPU per followed result")


if __name__ == "__main__":
    main()
