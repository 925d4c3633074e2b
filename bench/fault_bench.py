"""The fault scenarios of the test suite, with their figures: jobs submitted, accepted, refused,
succeeded, failed by code, lost and duplicated, as a markdown table for the README.

It runs tests/e2e/test_faults_broker.py, test_faults_worker.py and test_faults_model.py (real web
server, Celery workers and beat; a Redis of their own; the fake model on loopback) with
``SUITE_AI_FAULT_REPORT`` naming a file each scenario appends its figures to. ``--model-outage``
sets how long the model answers 503 (the suite's default is 12 s; the issue's scenario is 120)
and ``--model-budget`` the retry budget the worker runs with (default: the service's default).

Usage: .venv/bin/python bench/fault_bench.py [--model-outage 120] [--model-budget 600]
(on the embedded defaults: unset DATABASE_URL, CELERY_BROKER_URL and REDIS_URL.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/e2e/test_faults_broker.py", "tests/e2e/test_faults_worker.py", "tests/e2e/test_faults_model.py"]


def run(model_outage: float, model_budget: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "faults.jsonl"
        env = {
            **os.environ,
            "SUITE_AI_FAULT_REPORT": str(report),
            "SUITE_AI_FAULT_MODEL_OUTAGE": f"{model_outage:g}",
            "SUITE_AI_FAULT_MODEL_BUDGET": f"{model_budget:g}",
        }
        command = [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider", "-k", "not stream"]
        tests = subprocess.run(command, cwd=ROOT, env=env, check=False)
        rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()] if report.exists() else []
        if tests.returncode:
            print(f"some fault tests failed (exit status {tests.returncode}): their figures are above", file=sys.stderr)
        return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | submitted | accepted | succeeded | failed (code) | lost | duplicated |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        failed = ", ".join(f"{n} `{code}`" for code, n in sorted(row["failed"].items())) or "0"
        lines.append(
            f"| {row['scenario']} | {row['submitted']} | {row['accepted']} | {row['succeeded']} | {failed} |"
            f" {row['lost']} | {row['duplicated']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-outage", type=float, default=120.0, help="seconds the model answers 503")
    parser.add_argument("--model-budget", type=float, default=600.0, help="SUITE_AI_MODEL_RETRY_BUDGET of the worker")
    arguments = parser.parse_args()
    print(table(run(arguments.model_outage, arguments.model_budget)))


if __name__ == "__main__":
    main()
