"""``make bench``: every benchmark, one after the other (they measure CPU: never in parallel).

The figures behind each decision of docs/performance.md are written into its figures blocks
(bench/performance_doc.py); the other benchmarks print their tables, as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.performance_doc import DOC, refresh  # noqa: E402

OUT = HERE.parent / "var" / "bench"


def run(script: str, *args: str) -> str:
    """Run a benchmark, showing its output as it goes; returns that output."""
    print(f"\n## {script}\n", flush=True)
    process = subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, script)
    return "".join(lines)


def printed_json(output: str) -> dict[str, Any]:
    """The JSON object a benchmark prints before its table (service_bench.py)."""
    start = output.index("{\n")
    end = output.index("\n}\n", start) + 2
    result: dict[str, Any] = json.loads(output[start:end])
    return result


def main() -> None:
    """Each decision's figures are written as soon as its benchmark has run, so that a later
    failure (no Postgres, no Redis) keeps what was measured before it."""
    OUT.mkdir(parents=True, exist_ok=True)
    service = printed_json(run("service_bench.py", "--workers", "2"))
    refresh({"service": service})
    own = {"sdk-patches": "sdk_bench.py", "raw-sql": "db_bench.py", "redis-client": "broker_bench.py"}
    for name, script in own.items():
        path = OUT / f"{name}.json"
        run(script, "--json", str(path))
        refresh({name: json.loads(path.read_text())})
    floor = OUT / "floor.json"
    run("floor_bench.py", "--json", str(floor))  # adds up the three figures above (their JSON files)
    refresh({"floor": json.loads(floor.read_text())})
    run("sse_bench.py")
    budget = OUT / "budget.json"
    run("cpu_budget.py", "--json", str(budget))
    refresh({"budget": json.loads(budget.read_text())})
    run("docs_ai_bench.py")  # Docs' side too when DOCS_SRC names a Docs checkout
    run("ttfc_bench.py")
    run("llm_bench.py")
    run("blocknote_bench.py")
    print(f"\nFigures refreshed in {DOC}")


if __name__ == "__main__":
    main()
