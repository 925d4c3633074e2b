"""Job engine benchmark: the figures of the foundation issue, in one run, on this machine.

Runs the real stack (uvicorn web, Celery worker processes with the threads pool, Postgres,
Redis broker) against the fake Mistral server answering after a fixed delay, and reports:

- submission latency p50/p99 with 50 concurrent clients (target p99 ≤ 25 ms)
- pickup latency queued→running p50 with Redis (target ≤ 20 ms)
- overhead ratio = job wall time / model time for a 1 s model (target ≤ 1.05)
- jobs/s end to end, 500 jobs on a 2 s model (target ≥ 2 × Docs' synchronous endpoint, ≥ 92 jobs/s)
- model calls in flight in one worker process, 500 jobs on a 2 s model (target ≥ 200): one worker
  process alone drains 500 queued jobs
- CPU time per job, web and worker together (target ≤ 8 ms)
- database connections held by jobs while they wait on the model (target 0), sampled while every
  thread of one worker process waits on the model and no submission is running
- errors with 256 concurrent submitting clients (target 0)

The fake model runs in its own process and the load generator is one asyncio loop, so the
service is measured with the least load the stand-ins can put on the same two cores (their CPU
is reported too). Each job's text carries the model delay (``[[latency:2.0]]``, read by the fake).
A warm-up round runs first: the first requests of a fresh process import and compile.

Usage: .venv/bin/python bench/service_bench.py [--workers 2] [--database-url postgres://…] [--broker redis://…]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import ManagedProcess, free_port  # noqa: E402

API_KEY = "bench-mistral-key"
# How the benchmark starts a service process: (role, index, arguments after the interpreter) → arguments.
Launcher = Callable[[str, int, list[str]], list[str]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU of a process and all its threads (children excluded), or of one of its threads."""
    stat = Path(f"/proc/{pid}/stat") if thread is None else Path(f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class FakeModel:
    """The fake Mistral in its own process (``python -m tests.fakes.mistral_server``)."""

    def __init__(self, log_dir: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.api_key = API_KEY
        self.process = ManagedProcess(
            "model",
            [sys.executable, "-m", "tests.fakes.mistral_server", "--port", str(port), "--latency", "1.0",
             "--api-key", API_KEY],
            dict(os.environ), log_dir,
        )  # fmt: skip
        self.process.wait_for_log("fake Mistral on")

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_stats", timeout=10).json()

    def reset_stats(self) -> None:
        httpx.post(f"{self.url}/_stats/reset", timeout=10).raise_for_status()


class Stack:
    def __init__(
        self, args: argparse.Namespace, model: FakeModel, log_dir: Path, launcher: Launcher | None = None
    ) -> None:
        """``launcher``: how a process is started, from its role ("web", "worker"), its index among
        the processes of that role and its arguments after the interpreter (bench/cpu_budget.py
        starts them instrumented)."""
        self.args, self.log_dir = args, log_dir
        self.launch: Launcher = launcher or (lambda role, index, arguments: arguments)
        self.env = dict(os.environ)
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "suite_ai.settings",
                "DJANGO_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
                "SUITE_AI_DATA_DIR": str(log_dir / "data"),
                "DATABASE_URL": args.database_url,
                "CELERY_BROKER_URL": args.broker,
                "REDIS_URL": args.redis,
                "MISTRAL_API_KEY": model.api_key,
                "MISTRAL_SERVER_URL": model.url,
                "SUITE_AI_SUBMIT_RATE": "100000/min",
                "SUITE_AI_LOG_LEVEL": "WARNING",
            }
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=self.env, cwd=ROOT, check=True)
        os.environ.update(self.env)
        import django

        django.setup()
        from suite_ai.jobs.models import Job

        Job.objects.all().delete()
        self.token = subprocess.run(
            [sys.executable, "manage.py", "create_token", "bench"],
            env=self.env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.web = ManagedProcess(
            "web",
            [sys.executable, *self.launch("web", 0, ["-m", "uvicorn", "suite_ai.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"])],
            self.env, log_dir,
        )  # fmt: skip
        self.workers: list[ManagedProcess] = []
        self.start_workers(args.workers)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def start_workers(self, count: int) -> None:
        command = ["-m", "celery", "-A", "suite_ai.celery", "worker", "--pool", "threads",
                   "--concurrency", str(self.args.concurrency), "--queues", "suite_ai", "--without-gossip",
                   "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]  # fmt: skip
        workers = [
            ManagedProcess(
                "worker",
                [
                    sys.executable,
                    *self.launch("worker", i, [*command, "--hostname", f"bench{i}-{time.monotonic_ns()}@localhost"]),
                ],
                self.env,
                self.log_dir,
            )
            for i in range(count)
        ]
        for worker in workers:
            worker.wait_for_log(" ready.")
        self.workers = workers

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop(self) -> None:
        self.web.stop()
        self.stop_workers()

    def jobs(self, ids: list[str]) -> list[dict[str, Any]]:
        """Read timestamps straight from the database, so polling costs the web server nothing."""
        from django.db import connection

        from suite_ai.jobs.models import Job

        fields = ("status", "worker", "created_at", "started_at", "finished_at")
        rows = list(Job.objects.filter(id__in=ids).values(*fields))
        connection.close()
        return [{k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in row.items()} for row in rows]

    def wait_finished(self, ids: list[str], timeout: float = 300) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.jobs(ids)
            if sum(r["status"] in ("succeeded", "failed", "cancelled") for r in rows) == len(ids):
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ids)} jobs not finished in {timeout}s")
            time.sleep(0.2)

    def db_connections(self) -> dict[str, int]:
        if not self.args.database_url.startswith("postgres"):
            return {}
        database = self.args.database_url.rsplit("/", 1)[1]
        out = subprocess.run(
            ["psql", self.args.database_url.rsplit("/", 1)[0] + "/postgres", "-tAc",
             f"select coalesce(state,'?'), count(*) from pg_stat_activity where datname='{database}' group by 1"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.strip().splitlines() if line}


async def _submissions(
    stack: Stack, clients: int, per_client: int, pace: float, model_delay: float
) -> tuple[list[float], list[str], int]:
    """``clients`` clients, each on its own connection, submitting ``per_client`` jobs one after
    the other, one every ``pace`` seconds (0: as fast as answers come)."""
    latencies: list[float] = []
    ids: list[str] = []
    errors = 0

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal errors
        await asyncio.sleep(index * pace / clients)
        for n in range(per_client):
            text = f"Texte {index}-{n}. Une phrase à reformuler. [[latency:{model_delay}]]"
            url = f"{stack.url}/api/v1.0/documents/{uuid.uuid4()}/actions/"
            started = time.perf_counter()
            try:
                async with session.post(
                    url, json={"action": "rephrase", "input": {"markdown": text}}, headers=stack.headers
                ) as response:
                    body = await response.json()
                    latencies.append(time.perf_counter() - started)
                    if response.status == 202:
                        ids.append(body["id"])
                    else:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            if pace:
                await asyncio.sleep(max(0.0, pace - (time.perf_counter() - started)))

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(client(session, i) for i in range(clients)))
    return latencies, ids, errors


def submissions(
    stack: Stack, clients: int, per_client: int, pace: float, model_delay: float
) -> tuple[list[float], list[str], int]:
    return asyncio.run(_submissions(stack, clients, per_client, pace, model_delay))


def max_concurrent_per_worker(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The most jobs each worker process ran at once (a running job is waiting on its model)."""
    edges: dict[str, list[tuple[float, int]]] = {}
    for row in rows:
        if row["started_at"] and row["finished_at"]:
            edges.setdefault(row["worker"].split("@")[0], []).extend([(row["started_at"], 1), (row["finished_at"], -1)])
    peaks = {}
    for worker, points in edges.items():
        level = peak = 0
        for _, step in sorted(points, key=lambda p: (p[0], p[1])):
            level += step
            peak = max(peak, level)
        peaks[worker] = peak
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/suite_ai_bench")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one per core: 2)")
    args = parser.parse_args()
    if args.database_url.startswith("postgres"):
        base, name = args.database_url.rsplit("/", 1)
        subprocess.run(["psql", base + "/postgres", "-qc", f"create database {name}"], check=False, capture_output=True)

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    model = FakeModel(log_dir)
    stack = Stack(args, model, log_dir)
    try:
        # 0. Warm-up, not measured: the first requests of each process import and compile.
        _, ids, _ = submissions(stack, clients=50, per_client=4, pace=0.5, model_delay=0.2)
        stack.wait_finished(ids)

        # 1. Latency under a steady load: 50 clients each submitting every 2 s (25 submissions/s).
        latencies, ids, errors = submissions(stack, clients=50, per_client=8, pace=2.0, model_delay=1.0)
        rows = stack.wait_finished(ids)
        results["submit_p50_ms"] = percentile(latencies, 50) * 1000
        results["submit_p99_ms"] = percentile(latencies, 99) * 1000
        results["submit_errors_50"] = errors
        pickups = [r["started_at"] - r["created_at"] for r in rows if r["started_at"]]
        results["pickup_p50_ms"] = percentile(pickups, 50) * 1000
        results["pickup_p99_ms"] = percentile(pickups, 99) * 1000
        walls = [r["finished_at"] - r["created_at"] for r in rows if r["finished_at"]]
        results["overhead_ratio_p50"] = percentile(walls, 50) / 1.0
        results["overhead_ratio_p99"] = percentile(walls, 99) / 1.0

        # 2. Throughput end to end: 500 jobs on a 2 s model, submitted by 32 clients as fast as possible.
        model.reset_stats()
        processes = {"web": [stack.web], "worker": stack.workers, "stand-ins": [model.process]}
        before = {name: sum(cpu_seconds(p.process.pid) for p in group) for name, group in processes.items()}
        bench_before = cpu_seconds(os.getpid())
        started = time.time()
        _, ids, errors = submissions(stack, clients=32, per_client=args.jobs // 32 + 1, pace=0, model_delay=2.0)
        rows = stack.wait_finished(ids)
        finished = max(r["finished_at"] for r in rows)
        cpu = {name: sum(cpu_seconds(p.process.pid) for p in group) - before[name] for name, group in processes.items()}
        cpu["stand-ins"] += cpu_seconds(os.getpid()) - bench_before
        results["burst_jobs"] = len(ids)
        results["burst_failed"] = sum(r["status"] != "succeeded" for r in rows) + errors
        results["max_in_flight_all"] = model.stats()["max_in_flight"]
        results["jobs_per_second"] = len(ids) / (finished - started)
        results["cpu_ms_per_job"] = (cpu["web"] + cpu["worker"]) / len(ids) * 1000
        results["web_cpu_ms_per_job"] = cpu["web"] / len(ids) * 1000
        results["worker_cpu_ms_per_job"] = cpu["worker"] / len(ids) * 1000
        results["stand_ins_cpu_ms_per_job"] = cpu["stand-ins"] / len(ids) * 1000

        # 3. One worker process alone drains 500 queued jobs on a 2 s model: calls in flight per process.
        stack.stop_workers()
        _, ids, errors = submissions(stack, clients=32, per_client=args.jobs // 32 + 1, pace=0, model_delay=2.0)
        model.reset_stats()
        stack.start_workers(1)
        # Every thread of the worker waiting on the model (no claim under way): what the database sees.
        deadline = time.monotonic() + 20
        while model.stats()["in_flight"] < args.concurrency and time.monotonic() < deadline:
            time.sleep(0.05)
        results["db_connections_while_waiting"] = stack.db_connections()
        results["in_flight_when_sampled"] = model.stats()["in_flight"]
        rows = stack.wait_finished(ids)
        results["one_worker_max_in_flight"] = model.stats()["max_in_flight"]
        results["one_worker_jobs_per_second"] = len(rows) / (
            max(r["finished_at"] for r in rows) - min(r["started_at"] for r in rows)
        )
        results["one_worker_failed"] = sum(r["status"] != "succeeded" for r in rows) + errors
        stack.stop_workers()
        stack.start_workers(args.workers)

        # 4. 256 concurrent submitting clients.
        _, ids, errors = submissions(stack, clients=256, per_client=2, pace=0, model_delay=0.5)
        results["errors_256_clients"] = errors
        stack.wait_finished(ids)
    finally:
        stack.stop()
        model.process.stop()

    print(json.dumps(results, indent=2))
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    rows_out = [
        ("submission latency p50 / p99, 50 clients (25/s)",
         f"{results['submit_p50_ms']:.1f} / {results['submit_p99_ms']:.1f} ms", "p99 ≤ 25 ms"),
        ("pickup queued→running p50 / p99 (Redis)",
         f"{results['pickup_p50_ms']:.1f} / {results['pickup_p99_ms']:.1f} ms", "p50 ≤ 20 ms"),
        ("overhead ratio, 1 s model, p50 / p99",
         f"{results['overhead_ratio_p50']:.3f} / {results['overhead_ratio_p99']:.3f}", "≤ 1.05"),
        (f"jobs/s, 2 s model, {args.workers} worker process(es), first submission → last completion",
         f"{results['jobs_per_second']:.1f}", "≥ 92 (2 × Docs)"),
        ("model calls in flight, one worker process draining 500 jobs", str(results["one_worker_max_in_flight"]),
         "≥ 200 per process"),
        ("jobs/s, one worker process draining", f"{results['one_worker_jobs_per_second']:.1f}", ""),
        ("CPU per job, web + worker", f"{results['cpu_ms_per_job']:.2f} ms "
         f"({results['web_cpu_ms_per_job']:.2f} + {results['worker_cpu_ms_per_job']:.2f})", "≤ 8 ms"),
        ("CPU per job of the stand-ins (load generator, fake model)",
         f"{results['stand_ins_cpu_ms_per_job']:.2f} ms", ""),
        (f"DB connections by state, {results['in_flight_when_sampled']} jobs waiting on the model",
         json.dumps(results["db_connections_while_waiting"]), "0 active"),
        ("errors, 256 concurrent clients", str(results["errors_256_clients"]), "0"),
        ("failed jobs (burst, one worker)", f"{results['burst_failed']}, {results['one_worker_failed']}", "0"),
    ]  # fmt: skip
    for name, value, target in rows_out:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
