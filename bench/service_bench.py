"""Job engine benchmark: the figures of the foundation issue, in one run, on this machine.

Runs the real stack (uvicorn web, one Celery worker process with the threads pool, Postgres,
Redis broker) against the fake Mistral server answering after a fixed delay, and reports:

- submission latency p50/p99 with 50 concurrent clients (target p99 ≤ 25 ms)
- pickup latency queued→running p50 with Redis (target ≤ 20 ms)
- overhead ratio = job wall time / model time for a 1 s model (target ≤ 1.05)
- model calls in flight in one worker process, 500 jobs on a 2 s model (target ≥ 200), and jobs/s
  (target ≥ 2 × Docs' synchronous endpoint, i.e. ≥ 92 jobs/s)
- CPU time per job, web and worker together (target ≤ 8 ms)
- database connections held by jobs while they wait on the model (target 0)
- errors with 256 concurrent submitting clients (target 0)

Usage: .venv/bin/python bench/service_bench.py [--database-url postgres://…] [--broker redis://…]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.mistral_server import FakeMistralServer  # noqa: E402
from tests.support.processes import ManagedProcess, free_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads (children excluded)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class Stack:
    def __init__(self, args: argparse.Namespace, model: FakeMistralServer, log_dir: Path) -> None:
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
                "SUITE_AI_DB_POOL_MAX": "10",
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
            [sys.executable, "-m", "uvicorn", "suite_ai.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            self.env, log_dir,
        )  # fmt: skip
        self.workers = [
            ManagedProcess(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "suite_ai",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(args.concurrency),
                    "--queues",
                    "suite_ai",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                    "--hostname",
                    f"bench{i}@localhost",
                ],
                self.env,
                log_dir,
            )
            for i in range(args.workers)
        ]
        for worker in self.workers:
            worker.wait_for_log(" ready.")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        self.web.stop()
        for worker in self.workers:
            worker.stop()

    def submit(self, client: httpx.Client, text: str) -> tuple[int, float, str | None]:
        started = time.perf_counter()
        response = client.post(
            f"{self.url}/api/v1.0/documents/{uuid.uuid4()}/actions/",
            json={"action": "rephrase", "input": {"markdown": text}},
            headers=self.headers,
        )
        elapsed = time.perf_counter() - started
        job_id = response.json().get("id") if response.status_code == 202 else None
        return response.status_code, elapsed, job_id

    def jobs(self, ids: list[str]) -> list[dict[str, Any]]:
        """Read timestamps straight from the database, so polling costs the web server nothing."""
        from django.db import connection

        from suite_ai.jobs.models import Job

        rows = list(Job.objects.filter(id__in=ids).values("status", "created_at", "started_at", "finished_at"))
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
            time.sleep(0.5)

    def db_connections(self, args: argparse.Namespace) -> dict[str, int]:
        if not args.database_url.startswith("postgres"):
            return {}
        database = args.database_url.rsplit("/", 1)[1]
        out = subprocess.run(
            ["psql", args.database_url.rsplit("/", 1)[0] + "/postgres", "-tAc",
             f"select coalesce(state,'?'), count(*) from pg_stat_activity where datname='{database}' group by 1"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.strip().splitlines() if line}


def submission_latency(stack: Stack, clients: int, per_client: int, pace: float) -> tuple[list[float], list[str], int]:
    latencies: list[float] = []
    ids: list[str] = []
    errors = 0
    lock = threading.Lock()

    def client_loop(index: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=30) as client:
            time.sleep(index * pace / clients)
            for n in range(per_client):
                _status, elapsed, job_id = stack.submit(client, f"Texte {index}-{n}. Une phrase à reformuler.")
                with lock:
                    latencies.append(elapsed)
                    if job_id:
                        ids.append(job_id)
                    else:
                        errors += 1
                if pace:
                    time.sleep(max(0.0, pace - elapsed))

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    return latencies, ids, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/suite_ai_bench")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (one per core: 2)")
    args = parser.parse_args()
    if args.database_url.startswith("postgres"):
        base, name = args.database_url.rsplit("/", 1)
        subprocess.run(["psql", base + "/postgres", "-qc", f"create database {name}"], check=False, capture_output=True)

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with FakeMistralServer(latency=1.0) as model:
        stack = Stack(args, model, log_dir)
        try:
            # 1. Latency under a steady load: 50 clients each submitting every 2 s (25 submissions/s).
            latencies, ids, errors = submission_latency(stack, clients=50, per_client=8, pace=2.0)
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

            # 2. Throughput and concurrency: 500 jobs on a 2 s model, submitted as fast as possible.
            model.configure(latency=2.0)
            model.reset_stats()
            web_before = cpu_seconds(stack.web.process.pid)
            worker_before = sum(cpu_seconds(w.process.pid) for w in stack.workers)
            started = time.time()
            sampled: list[dict[str, int]] = []

            def sample_connections() -> None:
                time.sleep(2.5)
                sampled.append(stack.db_connections(args))

            sampler = threading.Thread(target=sample_connections)
            sampler.start()
            _, ids, errors = submission_latency(stack, clients=32, per_client=args.jobs // 32 + 1, pace=0)
            rows = stack.wait_finished(ids)
            sampler.join()
            finished = max(r["finished_at"] for r in rows)
            web_cpu = cpu_seconds(stack.web.process.pid) - web_before
            worker_cpu = sum(cpu_seconds(w.process.pid) for w in stack.workers) - worker_before
            results["burst_jobs"] = len(ids)
            results["burst_failed"] = sum(r["status"] != "succeeded" for r in rows) + errors
            results["max_in_flight"] = model.stats()["max_in_flight"]
            results["jobs_per_second"] = len(ids) / (finished - started)
            results["cpu_ms_per_job"] = (web_cpu + worker_cpu) / len(ids) * 1000
            results["web_cpu_ms_per_job"] = web_cpu / len(ids) * 1000
            results["worker_cpu_ms_per_job"] = worker_cpu / len(ids) * 1000
            results["db_connections_while_waiting"] = sampled[0] if sampled else {}

            # 3. 256 concurrent submitting clients.
            model.configure(latency=0.5)
            _, ids, errors = submission_latency(stack, clients=256, per_client=2, pace=0)
            results["errors_256_clients"] = errors
            stack.wait_finished(ids)
        finally:
            stack.stop()

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
        (f"model calls in flight, {args.workers} worker process(es)", str(results["max_in_flight"]),
         "≥ 200 per process"),
        ("jobs/s, 2 s model", f"{results['jobs_per_second']:.1f}", "≥ 92 (2 × Docs)"),
        ("CPU per job, web + worker", f"{results['cpu_ms_per_job']:.2f} ms "
         f"({results['web_cpu_ms_per_job']:.2f} + {results['worker_cpu_ms_per_job']:.2f})", "≤ 8 ms"),
        ("DB connections by state while jobs wait", json.dumps(results["db_connections_while_waiting"]), "0 active"),
        ("errors, 256 concurrent clients", str(results["errors_256_clients"]), "0"),
        ("failed jobs in the burst", str(results["burst_failed"]), "0"),
    ]  # fmt: skip
    for name, value, target in rows_out:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
