"""Time to first character on the embedded default: what an editor waits for after a click.

Starts the service exactly as ``make run`` does (``manage.py serve``: web, worker and beat on
SQLite and the embedded broker, in a fresh data directory) against the fake Mistral server in its
own process, whose first streamed token comes 200 ms after the request (``--latency 0.2``). Then,
one action at a time as a person clicks, it submits ``rephrase`` and follows ``links.events`` (the
ticket, as EventSource does) and records, from the start of the submission:

- the first ``delta`` event (the first character the page can show): target ≤ 300 ms p50;
- ``done``;
- and, from the job's own timestamps, the pickup (created → started).

The model's 200 ms are part of every figure: the service's own share is what is above them.

Usage: .venv/bin/python bench/ttfc_bench.py [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_bench import percentile  # noqa: E402
from tests.support.processes import ManagedProcess, free_port  # noqa: E402

FIRST_TOKEN = 0.2
API_KEY = "ttfc-bench-key"


def start_model(log_dir: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    process = ManagedProcess(
        "model",
        [sys.executable, "-m", "tests.fakes.mistral_server", "--port", str(port), "--latency", str(FIRST_TOKEN),
         "--chunk-delay", "0.05", "--api-key", API_KEY],
        dict(os.environ), log_dir,
    )  # fmt: skip
    process.wait_for_log("fake Mistral on")
    return process, f"http://127.0.0.1:{port}"


def start_service(log_dir: Path, data_dir: Path, model_url: str) -> tuple[ManagedProcess, str, str]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
    }
    port = free_port()
    env.update(
        SUITE_AI_DATA_DIR=str(data_dir),
        PORT=str(port),
        MISTRAL_API_KEY=API_KEY,
        MISTRAL_SERVER_URL=model_url,
        SUITE_AI_LOG_LEVEL="WARNING",
        SUITE_AI_SUBMIT_RATE="100000/min",
    )
    import subprocess

    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    token = subprocess.run(
        [sys.executable, "manage.py", "create_token", "ttfc"], env=env, cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    service = ManagedProcess("serve", [sys.executable, "manage.py", "serve"], env, log_dir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return service, url, token
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service did not become ready:\n{service.log()[-3000:]}")


def one_action(client: httpx.Client, url: str, token: str, index: int) -> dict[str, float]:
    started = time.perf_counter()
    response = client.post(
        f"{url}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "rephrase", "input": {"markdown": f"Phrase {index} : le conseil a adopté le budget."}},
        headers={"Authorization": f"Bearer {token}"},
    )
    submitted = time.perf_counter() - started
    response.raise_for_status()
    job = response.json()
    first_delta = done = float("nan")
    kind = ""
    with client.stream("GET", job["links"]["events"], timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                if kind == "delta" and first_delta != first_delta:
                    first_delta = time.perf_counter() - started
                if kind in ("done", "failed", "cancelled"):
                    done = time.perf_counter() - started
                    break
    if kind != "done":
        raise RuntimeError(f"job {job['id']} ended with {kind!r}")
    details = client.get(f"{url}/api/v1.0/jobs/{job['id']}/", headers={"Authorization": f"Bearer {token}"}).json()
    return {"submit": submitted, "first_delta": first_delta, "done": done, "job": details["id"]}


def pickups(data_dir: Path, ids: list[str]) -> list[float]:
    import sqlite3

    database = sqlite3.connect(data_dir / "suite_ai.sqlite3")
    rows = database.execute(
        f"select created_at, started_at from jobs_job where id in ({','.join('?' * len(ids))})",
        [uuid.UUID(i).hex for i in ids],
    ).fetchall()
    from datetime import datetime

    return [(datetime.fromisoformat(s) - datetime.fromisoformat(c)).total_seconds() for c, s in rows if s]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="ttfc-", dir=log_dir))
    model, model_url = start_model(log_dir)
    service = None
    try:
        service, url, token = start_service(log_dir, data_dir, model_url)
        with httpx.Client(timeout=30) as client:
            for index in range(5):  # warm-up: the first requests of fresh processes import and compile
                one_action(client, url, token, -index)
            results = [one_action(client, url, token, index) for index in range(args.runs)]
        pickup = pickups(data_dir, [r["job"] for r in results])  # type: ignore[misc]
    finally:
        if service is not None:
            service.stop()
        model.stop()
    figures: dict[str, Any] = {"runs": len(results), "model_first_token_ms": FIRST_TOKEN * 1000}
    for name in ("submit", "first_delta", "done"):
        values = [r[name] for r in results]
        figures[f"{name}_p50_ms"] = percentile(values, 50) * 1000
        figures[f"{name}_p99_ms"] = percentile(values, 99) * 1000
    if pickup:
        figures["pickup_p50_ms"] = percentile(pickup, 50) * 1000
        figures["pickup_p99_ms"] = percentile(pickup, 99) * 1000
    print(json.dumps(figures, indent=2))
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
