"""Time to first character in the playground: from the click on an action in the Assistant menu to
the first streamed character in the page's preview, both taken in the browser (performance.now).

Runs what `make run` runs, on the **embedded defaults** (SQLite, the embedded broker; DATABASE_URL,
CELERY_BROKER_URL and REDIS_URL are ignored): ``manage.py serve`` (web, worker, beat) in a fresh data
directory, against the fake Mistral server whose first token comes after ``--model-latency``
(0.2 s). Debian's Chromium (playwright-core, editor/tests/browser/playground.mjs) pastes French text,
selects it and runs ``rephrase`` ``--runs`` times (after one warm-up run, not counted), rejecting
each result. Target: p50 ≤ 300 ms with a 0.2 s model.

Usage: .venv/bin/python bench/ttfc_bench.py [--runs 20] [--model-latency 0.2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_bench import percentile  # noqa: E402
from tests.fakes.mistral_server import FakeMistralServer  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

DRIVER = ROOT / "editor" / "tests" / "browser" / "playground.mjs"


def wait_ready(url: str, timeout: float = 90) -> None:
    """/health/ready answers 200 once the database answers and a worker has beaten."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} was not ready after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--model-latency", type=float, default=0.2, help="seconds before the model's first token")
    parser.add_argument("--action", default="rephrase")
    parser.add_argument("--json", type=Path, help="also write the figures there")
    args = parser.parse_args()

    model = FakeMistralServer(latency=args.model_latency, chunk_delay=0.05, chunks=8).start()
    data_dir = Path(tempfile.mkdtemp(prefix="ttfc-", dir=ROOT / "var"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        SUITE_AI_DATA_DIR=str(data_dir),
        MISTRAL_API_KEY=model.api_key,
        MISTRAL_SERVER_URL=model.url,
        SUITE_AI_PLAYGROUND="true",
        PYTHONUNBUFFERED="1",
    )
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log = (data_dir / "serve.log").open("wb")
    serve = subprocess.Popen(
        [python, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        result = subprocess.run(
            ["node", str(DRIVER), "ttfc", url, str(ROOT / "var" / "browser-failures"),
             json.dumps({"runs": args.runs + 1, "action": args.action})],
            cwd=ROOT / "editor", capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        if not seen.get("ok"):
            raise SystemExit(f"the browser run failed: {seen.get('failure')}\n{result.stderr}")
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=30)
        model.stop()
    samples = seen["samples"][1:]  # the first run warms the page and the processes up
    phases = seen["phases"][1:]
    figures = {
        # Medians from the click, as the page received them: the 202, the worker's "running" event,
        # the first delta event (the first character is drawn right after it).
        "phases_p50_ms": {name: round(statistics.median(p[name] for p in phases), 1) for name in phases[0]},
        "model_latency_ms": args.model_latency * 1000,
        "runs": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p90_ms": round(percentile(samples, 90), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "samples_ms": [round(s, 1) for s in samples],
    }
    print(json.dumps(figures, indent=2))
    print(
        f"\ntime to first character, {args.action}, model first token at {args.model_latency * 1000:.0f} ms,"
        f" embedded defaults: p50 {figures['p50_ms']} ms, p90 {figures['p90_ms']} ms"
        f" (min {figures['min_ms']}, max {figures['max_ms']}, {len(samples)} runs); target p50 ≤ 300 ms"
    )
    print("medians from the click (ms): " + ", ".join(f"{k} {v}" for k, v in figures["phases_p50_ms"].items()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
