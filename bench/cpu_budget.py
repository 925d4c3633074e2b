"""Where the server's CPU goes, per followed result: the closed loop of bench/sse_bench.py, measured
function by function.

The stack is bench/sse_bench.py's (uvicorn web, Celery worker processes with the threads pool,
Postgres, Redis, the fake model at 2 s per call), its web and workers started through
bench/cpu_probe.py, which adds up the CPU time each calling thread spends inside the functions
listed below (inclusive: a nested function counts in its callers too). A closed loop of
``--clients`` clients runs for ``--seconds`` after a warm-up; every figure is what that loop
added, divided by the results it got: each process's CPU (from /proc, its event-loop or consumer
thread apart from the others) and each function's CPU and calls.

Wrapping costs a little (two ``thread_time`` calls per call): the totals are a few per cent above
bench/sse_bench.py's, whose figures are the service's.

Usage: .venv/bin/python bench/cpu_budget.py [--clients 64] [--seconds 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.performance_doc import budget_block  # noqa: E402
from bench.service_bench import FakeModel, Stack, cpu_seconds  # noqa: E402
from bench.sse_bench import ConnectionSampler, _closed_loop, closed_loop  # noqa: E402

# (what it is, the function, depth in the table). Synchronous functions only (see cpu_probe.py).
WORKER = [
    ("a job's task, as Celery runs it on a pool thread", "celery.app.trace:fast_trace_task", 0),
    ("the claim (queued → running)", "suite_ai.jobs.services:claim", 1),
    ("the pipeline", "suite_ai.jobs.runner:execute", 1),
    ("the streamed model call, through the SDK", "suite_ai.llm.gateway:Gateway.stream_chat", 2),
    ("the first delta's event, written at once", "suite_ai.jobs.runner:DatabaseJobContext.flush", 3),
    (
        "the final transaction's buffered rows (last delta, model call)",
        "suite_ai.jobs.runner:DatabaseJobContext.write_pending",
        1,
    ),
    ("the success: UPDATE, `done` event, audit record, metrics, log line", "suite_ai.jobs.services:succeed", 1),
    ("the audit record", "suite_ai.audit.services:record_final", 2),
    ("all event INSERTs (`running`, deltas, `done`)", "suite_ai.jobs.services:emit", 0),
    ("all SQL statements", "django.db.backends.utils:CursorWrapper.execute", 0),
    ("all database connection checkouts", "django.db.backends.base.base:BaseDatabaseWrapper.connect", 0),
]
WEB = [
    ("the submission in Django: middleware, DRF, the view", "django.core.handlers.wsgi:WSGIHandler.__call__", 0),
    ("authentication (API token)", "suite_ai.accounts.authentication:ApiTokenAuthentication.authenticate", 1),
    ("the submission throttle", "suite_ai.jobs.throttling:SubmitThrottle.allow_request", 1),
    ("the job INSERT", "suite_ai.jobs.services:_insert_job", 1),
    ("Celery's send of the job to the broker, once the response is done", "suite_ai.jobs.services:enqueue", 0),
    ("the event streams' reads", "suite_ai.jobs.streams:read_events", 0),
    ("all SQL statements", "django.db.backends.utils:CursorWrapper.execute", 0),
]
ROLES = {"web": WEB, "worker": WORKER}


def threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process's first thread (its event loop, or Celery's consumer) and of the others."""
    out = {"main": 0.0, "other threads": 0.0}
    for thread in map(int, os.listdir(f"/proc/{pid}/task")):
        try:
            out["main" if thread == pid else "other threads"] += cpu_seconds(pid, thread)
        except FileNotFoundError:
            continue  # a thread that just ended
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/suite_ai_cpu_budget")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    base, name = args.database_url.rsplit("/", 1)
    subprocess.run(["psql", base + "/postgres", "-qc", f"create database {name}"], check=False, capture_output=True)
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    probes: dict[str, list[Path]] = {"web": [], "worker": []}

    def instrumented(role: str, index: int, arguments: list[str]) -> list[str]:
        out = log_dir / f"cpu-budget-{role}-{index}.json"
        out.unlink(missing_ok=True)
        probes[role].append(out)
        functions = ",".join(function for _, function, _ in ROLES[role])
        return [str(ROOT / "bench" / "cpu_probe.py"), str(out), functions, *arguments]

    def snapshot() -> dict[str, Any]:
        time.sleep(0.6)  # the probes' files are rewritten every 0.5 s
        counted: dict[str, dict[str, list[float]]] = {}
        for role, paths in probes.items():
            totals: dict[str, list[float]] = counted.setdefault(role, {})
            for path in paths:
                for function, total in json.loads(path.read_text()).items():
                    summed = totals.setdefault(function, [0.0, 0.0])
                    summed[0] += total["cpu_s"]
                    summed[1] += total["calls"]
        processes = {"web": [stack.web], "worker": stack.workers}
        cpu = {
            role: {kind: sum(threads_cpu(p.process.pid)[kind] for p in group) for kind in ("main", "other threads")}
            for role, group in processes.items()
        }
        return {"functions": counted, "threads": cpu}

    model = FakeModel(log_dir)
    stack = Stack(args, model, log_dir, launcher=instrumented)
    sampler = ConnectionSampler(args.database_url)
    try:
        asyncio.run(_closed_loop(stack, args.clients // 2, 5.0))  # warm-up, not measured
        before = snapshot()
        loop = closed_loop(stack, model, sampler, args.clients)
        after = snapshot()
    finally:
        stack.stop()
        model.process.stop()
    results = max(1, loop["results"])
    budget: dict[str, Any] = {"loop": loop, "roles": {}}
    for role, rows in ROLES.items():
        threads = {
            kind: (after["threads"][role][kind] - before["threads"][role][kind]) / results * 1000
            for kind in ("main", "other threads")
        }
        functions = []
        for label, function, depth in rows:
            cpu_after, calls_after = after["functions"][role].get(function, [0.0, 0.0])
            cpu_before, calls_before = before["functions"][role].get(function, [0.0, 0.0])
            functions.append(
                {
                    "label": label,
                    "function": function,
                    "depth": depth,
                    "ms": (cpu_after - cpu_before) / results * 1000,
                    "calls": (calls_after - calls_before) / results,
                }
            )
        budget["roles"][role] = {"threads": threads, "functions": functions}
    if args.json:
        args.json.write_text(json.dumps(budget, indent=2))
    print(json.dumps(budget, indent=2))
    print()
    print(budget_block(budget))


if __name__ == "__main__":
    main()
