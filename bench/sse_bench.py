"""Event-stream benchmark: what an editor sees end to end, and what open streams cost the web.

Runs the real stack as ``bench/service_bench.py`` starts it (uvicorn web, Celery worker processes
with the threads pool, Postgres, Redis as broker and for the stream notifications) against the
fake Mistral server in its own process (2 s per call), and measures:

1. Closed loop, 30 s, at 64 and at 256 clients: each client submits an action, follows the job's
   ``links.events`` (its ticket, as a browser's EventSource does) until ``done``, and starts over.
   Results/s, latency submit → done p50/p99, server CPU per result (web + worker processes, from
   /proc), errors, and the most database connections open and active at once (pg_stat_activity).
   Targets: ≤ 9 ms of server CPU per result and ≥ 28.1 results/s at 64 clients (Docs' own
   synchronous ai-transform: 17–18 ms, 28.1/s); 0 errors at 256 with Postgres' 100 connections.
2. 1,000 idle followers (jobs that do not run): the web process's threads, the database
   connections, ``GET /actions/`` p50 and submission latency p50/p99 at 50 clients (25/s) with
   them open, then the delivery latency of an event written for each of them (written → received
   by the follower, p50/p99; target p99 ≤ 50 ms).

It stops by itself: every phase is bounded in time. A warm-up round runs first.

Usage: .venv/bin/python bench/sse_bench.py [--workers 2] [--database-url postgres://…] [--broker redis://…]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_bench import FakeModel, Stack, cpu_seconds, percentile  # noqa: E402

TERMINAL = ("done", "failed", "cancelled")
CLOSED_LOOP_SECONDS = 30.0
MODEL_DELAY = 2.0
IDLE_FOLLOWERS = 1000


@dataclass
class Loop:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _read_stream(response: aiohttp.ClientResponse, on_event: Any = None) -> str:
    """The kind of the stream's terminal event ('' if it ended without one)."""
    kind = ""
    data = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif not line and kind:
            if on_event is not None:
                on_event(kind, data)
            if kind in TERMINAL:
                return kind
            kind = ""
    return ""


async def _cycle(session: aiohttp.ClientSession, stack: Stack, text: str, result: Loop) -> None:
    started = time.perf_counter()
    url = f"{stack.url}/api/v1.0/documents/{uuid.uuid4()}/actions/"
    async with session.post(
        url, json={"action": "rephrase", "input": {"markdown": text}}, headers=stack.headers
    ) as response:
        body = await response.json()
        if response.status != 202:
            result.errors.append(f"submit {response.status} {body.get('code')}")
            return
    async with session.get(body["links"]["events"]) as stream:  # the ticket alone, as EventSource
        if stream.status != 200:
            result.errors.append(f"events {stream.status}")
            return
        end = await _read_stream(stream)
    if end != "done":
        result.errors.append(f"stream ended with {end or 'nothing'}")
        return
    result.latencies.append(time.perf_counter() - started)


async def _closed_loop(stack: Stack, clients: int, seconds: float) -> Loop:
    result = Loop()
    stop_at = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        await asyncio.sleep(index * 0.5 / clients)  # not all in the same millisecond
        n = 0
        while time.perf_counter() < stop_at:
            n += 1
            try:
                text = f"Texte {index}-{n}. Une phrase à reformuler. [[latency:{MODEL_DELAY}]]"
                await asyncio.wait_for(_cycle(session, stack, text, result), timeout=60)
            except (aiohttp.ClientError, TimeoutError) as error:
                result.errors.append(type(error).__name__)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        await asyncio.gather(*(client(session, i) for i in range(clients)))
    return result


class ConnectionSampler:
    """The most connections to the benchmark's database open, and active, at once."""

    def __init__(self, database_url: str) -> None:
        self.database = database_url.rsplit("/", 1)[1]
        self.conn = psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
        self.max_open = self.max_active = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[int, int, dict[str, int]]:
        rows = self.conn.execute(
            "select coalesce(state, '?'), count(*) from pg_stat_activity where datname = %s group by 1",
            (self.database,),
        ).fetchall()
        states = {state: int(count) for state, count in rows}
        # The sampling connection itself is not in the benchmark's database.
        return sum(states.values()), states.get("active", 0), states

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total, active, _ = self.sample()
            self.max_open, self.max_active = max(self.max_open, total), max(self.max_active, active)

    def __enter__(self) -> ConnectionSampler:
        self.max_open = self.max_active = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def closed_loop(stack: Stack, model: FakeModel, sampler: ConnectionSampler, clients: int) -> dict[str, Any]:
    processes = {"server": [stack.web, *stack.workers], "web": [stack.web], "stand-ins": [model.process]}
    before = {name: sum(cpu_seconds(p.process.pid) for p in group) for name, group in processes.items()}
    bench_before = cpu_seconds(os.getpid())
    started = time.perf_counter()
    with sampler:
        result = asyncio.run(_closed_loop(stack, clients, CLOSED_LOOP_SECONDS))
    elapsed = time.perf_counter() - started
    cpu = {name: sum(cpu_seconds(p.process.pid) for p in group) - before[name] for name, group in processes.items()}
    cpu["stand-ins"] += cpu_seconds(os.getpid()) - bench_before
    results = len(result.latencies)
    return {
        "clients": clients,
        "results": results,
        "results_per_second": results / elapsed,
        "p50_s": percentile(result.latencies, 50),
        "p99_s": percentile(result.latencies, 99),
        "server_cpu_ms_per_result": cpu["server"] / max(1, results) * 1000,
        "web_cpu_ms_per_result": cpu["web"] / max(1, results) * 1000,
        "stand_ins_cpu_ms_per_result": cpu["stand-ins"] / max(1, results) * 1000,
        "errors": len(result.errors),
        "error_kinds": sorted(set(result.errors))[:5],
        "max_db_connections_open": sampler.max_open,
        "max_db_connections_active": sampler.max_active,
    }


def unfollowed(stack: Stack, clients: int, rate: float) -> dict[str, Any]:
    """The control: the same jobs at about the same rate, submitted and run with nobody following
    them. What the closed loop costs beyond this is what following the streams costs."""
    from bench.service_bench import _submissions

    processes = {"server": [stack.web, *stack.workers], "web": [stack.web]}
    before = {name: sum(cpu_seconds(p.process.pid) for p in group) for name, group in processes.items()}
    per_client = max(1, round(rate * CLOSED_LOOP_SECONDS / clients))
    _, ids, errors = asyncio.run(_submissions(stack, clients, per_client, clients / rate, MODEL_DELAY))
    stack.wait_finished(ids, 120)
    cpu = {name: sum(cpu_seconds(p.process.pid) for p in group) - before[name] for name, group in processes.items()}
    return {
        "jobs": len(ids),
        "server_cpu_ms_per_job": cpu["server"] / max(1, len(ids)) * 1000,
        "web_cpu_ms_per_job": cpu["web"] / max(1, len(ids)) * 1000,
        "errors": errors,
    }


# --- 1,000 idle followers -----------------------------------------------------------------------------


def idle_jobs(count: int) -> list[tuple[str, str]]:
    """Jobs that never run (never enqueued), with the ticket of each: (id, events path)."""
    from django.db import connection

    from suite_ai.accounts.models import User
    from suite_ai.jobs import tickets
    from suite_ai.jobs.models import Job

    owner = User.objects.get(sub="bench")
    jobs = [
        Job(owner=owner, document_id=uuid.uuid4(), action="rephrase", input_hash="idle", enqueued_at=None)
        for _ in range(count)
    ]
    Job.objects.bulk_create(jobs)
    connection.close()
    return [(str(job.id), f"/api/v1.0/jobs/{job.id}/events/?ticket={tickets.issue(job.id, owner.id)}") for job in jobs]


def write_events(job_ids: list[str], kind: str, rate: float) -> None:
    """One event per job, ``rate`` a second, each carrying the time it was written (committed)."""
    from django.db import connection

    from suite_ai.jobs import services

    interval = 1.0 / rate
    next_at = time.perf_counter()
    for job_id in job_ids:
        services.emit(job_id, kind, {"written_at": time.time()} if kind == "progress" else {"status": "succeeded"})
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    connection.close()


async def _idle_followers(stack: Stack, sampler: ConnectionSampler, jobs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    opened = 0
    delays: list[float] = []
    errors: list[str] = []
    ended: list[str] = []
    all_open = asyncio.Event()

    def on_event(kind: str, data: str) -> None:
        if kind == "progress":
            delays.append(time.time() - json.loads(data)["written_at"])

    async def follow(session: aiohttp.ClientSession, path: str) -> None:
        nonlocal opened
        try:
            async with session.get(f"{stack.url}{path}") as response:
                if response.status != 200:
                    errors.append(f"events {response.status}")
                    return
                await response.content.readline()  # "retry: …": the stream is open
                opened += 1
                if opened == len(jobs):
                    all_open.set()
                ended.append(await _read_stream(response, on_event))
        except aiohttp.ClientError as error:
            errors.append(type(error).__name__)

    async def timed_get(session: aiohttp.ClientSession, path: str, count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            async with session.get(f"{stack.url}{path}", headers=stack.headers) as response:
                await response.read()
                if response.status != 200:
                    errors.append(f"GET {path} {response.status}")
            times.append(time.perf_counter() - started)
        return times

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        from bench.service_bench import _submissions

        out["actions_p50_ms_without_followers"] = (
            percentile(await timed_get(session, "/api/v1.0/actions/", 200), 50) * 1000
        )
        # The same submissions as below, before the followers open: what they change.
        latencies, ids, submit_errors = await _submissions(stack, clients=50, per_client=8, pace=2.0, model_delay=1.0)
        out["submit_p50_ms_without_followers"] = percentile(latencies, 50) * 1000
        out["submit_p99_ms_without_followers"] = percentile(latencies, 99) * 1000
        await asyncio.to_thread(stack.wait_finished, ids, 120)
        out["db_connections_before_followers"] = sampler.sample()[2]
        threads_before = len(os.listdir(f"/proc/{stack.web.process.pid}/task"))
        tasks = [asyncio.create_task(follow(session, path)) for _, path in jobs]
        await asyncio.wait_for(all_open.wait(), timeout=120)
        await asyncio.sleep(1.0)  # the replay reads are done; the followers are idle
        out["web_threads_before"] = threads_before
        out["web_threads_with_followers"] = len(os.listdir(f"/proc/{stack.web.process.pid}/task"))
        _, _, states = sampler.sample()
        out["db_connections_with_followers"] = states
        out["actions_p50_ms_with_followers"] = (
            percentile(await timed_get(session, "/api/v1.0/actions/", 200), 50) * 1000
        )

        # Submissions at 50 clients (25/s) with the followers open, through the same web process.
        with sampler:
            latencies, ids, submit_errors = await _submissions(
                stack, clients=50, per_client=8, pace=2.0, model_delay=1.0
            )
        out["submit_p50_ms_with_followers"] = percentile(latencies, 50) * 1000
        out["submit_p99_ms_with_followers"] = percentile(latencies, 99) * 1000
        out["submit_errors_with_followers"] = submit_errors
        await asyncio.to_thread(stack.wait_finished, ids, 120)

        # One event per idle job, 100 a second, written by another process's role (this one's thread).
        job_ids = [job_id for job_id, _ in jobs]
        with sampler:
            await asyncio.to_thread(write_events, job_ids, "progress", 100.0)
            deadline = time.monotonic() + 30
            while len(delays) < len(jobs) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(write_events, job_ids, "done", 1000.0)
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        out["events_delivered"] = len(delays)
        out["delivery_p50_ms"] = percentile(delays, 50) * 1000
        out["delivery_p99_ms"] = percentile(delays, 99) * 1000
        out["delivery_max_ms"] = max(delays) * 1000 if delays else float("nan")
        out["streams_ended_done"] = ended.count("done")
        out["max_db_connections_open"] = sampler.max_open
        out["max_db_connections_active"] = sampler.max_active
        out["errors"] = len(errors) + submit_errors
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/suite_ai_sse_bench")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one per core: 2)")
    parser.add_argument("--clients", default="64,256", help="closed-loop client counts ('': none)")
    parser.add_argument("--skip-idle", action="store_true", help="skip the 1,000 idle followers")
    args = parser.parse_args()
    base, name = args.database_url.rsplit("/", 1)
    subprocess.run(["psql", base + "/postgres", "-qc", f"create database {name}"], check=False, capture_output=True)

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    model = FakeModel(log_dir)
    stack = Stack(args, model, log_dir)
    sampler = ConnectionSampler(args.database_url)
    try:
        asyncio.run(_closed_loop(stack, 32, 5.0))  # warm-up, not measured
        for clients in (int(c) for c in args.clients.split(",") if c):
            results[f"closed_loop_{clients}"] = closed_loop(stack, model, sampler, clients)
            print(json.dumps(results[f"closed_loop_{clients}"]), flush=True)
            if clients == min(int(c) for c in args.clients.split(",") if c):
                rate = results[f"closed_loop_{clients}"]["results_per_second"]
                results[f"unfollowed_{clients}"] = unfollowed(stack, clients, rate)
                print(json.dumps(results[f"unfollowed_{clients}"]), flush=True)
        if not args.skip_idle:
            results["idle_followers"] = asyncio.run(_idle_followers(stack, sampler, idle_jobs(IDLE_FOLLOWERS)))
    finally:
        stack.stop()
        model.process.stop()

    print(json.dumps(results, indent=2))
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    for clients in (int(c) for c in args.clients.split(",") if c):
        r = results[f"closed_loop_{clients}"]
        print(f"| {clients} clients: results/s | {r['results_per_second']:.1f} | ≥ 28.1 at 64 |")
        print(f"| {clients} clients: submit → done p50 / p99 | {r['p50_s']:.2f} / {r['p99_s']:.2f} s | |")
        print(f"| {clients} clients: server CPU per result (web) | {r['server_cpu_ms_per_result']:.2f} ms "
              f"({r['web_cpu_ms_per_result']:.2f}) | ≤ 9 ms |")  # fmt: skip
        if f"unfollowed_{clients}" in results:
            u = results[f"unfollowed_{clients}"]
            print(f"| the same jobs at that rate, nobody following: server CPU per job (web) | "
                  f"{u['server_cpu_ms_per_job']:.2f} ms ({u['web_cpu_ms_per_job']:.2f}) | |")  # fmt: skip
        print(f"| {clients} clients: errors | {r['errors']} | 0 |")
        print(f"| {clients} clients: DB connections open / active, max | "
              f"{r['max_db_connections_open']} / {r['max_db_connections_active']} | ≤ 100 |")  # fmt: skip
    if "idle_followers" in results:
        r = results["idle_followers"]
        print(f"| {IDLE_FOLLOWERS} idle followers: web threads | {r['web_threads_with_followers']} "
              f"({r['web_threads_before']} before) | bounded |")  # fmt: skip
        print(f"| {IDLE_FOLLOWERS} idle followers: DB connections by state, before / with them | "
              f"{json.dumps(r['db_connections_before_followers'])} / "
              f"{json.dumps(r['db_connections_with_followers'])} | |")  # fmt: skip
        print(f"| GET /actions/ p50 without / with them | {r['actions_p50_ms_without_followers']:.1f} / "
              f"{r['actions_p50_ms_with_followers']:.1f} ms | |")  # fmt: skip
        print(f"| submission p50 / p99, 50 clients (25/s), without / with them | "
              f"{r['submit_p50_ms_without_followers']:.1f} / {r['submit_p99_ms_without_followers']:.1f} ms, "
              f"{r['submit_p50_ms_with_followers']:.1f} / {r['submit_p99_ms_with_followers']:.1f} ms "
              "| p99 ≤ 25 ms |")  # fmt: skip
        print(f"| event delivery p50 / p99 (max) | {r['delivery_p50_ms']:.1f} / {r['delivery_p99_ms']:.1f} "
              f"({r['delivery_max_ms']:.1f}) ms, {r['events_delivered']} delivered | p99 ≤ 50 ms |")  # fmt: skip
        print(f"| errors | {r['errors']} | 0 |")


if __name__ == "__main__":
    main()
