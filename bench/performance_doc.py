"""Writes measured figures into docs/performance.md, between the markers of each decision.

A figures block is the text between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``;
everything outside the markers (what was decided, and why) is written by hand and left alone.
``make bench`` (bench/run_all.py) calls ``refresh`` with what each benchmark measured.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
# The README's service figures the decisions were taken against (median of six runs).
REFERENCE = {"cpu_ms_per_job": 7.70, "jobs_per_second": 130.0}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def provenance() -> str:
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    return (
        f"_Refreshed by `make bench` on {today}: Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"mistralai {_version('mistralai')}, kombu {_version('kombu')}, Django {_version('Django')}, "
        f"psycopg {_version('psycopg')}._"
    )


def sdk_block(results: dict[str, Any]) -> str:
    shapes = list(results)
    lines = [
        "| configuration | "
        + " | ".join(f"CPU per call, {shape} (ratio to all patches: median, min–max)" for shape in shapes)
        + " |",
        "|---|" + "---|" * len(shapes),
    ]
    for name in results[shapes[0]]:
        cells = []
        for shape in shapes:
            row = results[shape][name]
            cells.append(
                f"{row['cpu_ms_median']:.2f} ms ({row['ratio_to_all_median']:.2f}, "
                f"{row['ratio_to_all_min']:.2f}–{row['ratio_to_all_max']:.2f})"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sql_block(results: dict[str, Any], cpu_per_job_ms: float = REFERENCE["cpu_ms_per_job"]) -> str:
    lines = [
        "| statement (times per job) | raw SQL | ORM | ORM / raw: median (min–max) | ORM's extra CPU per job "
        "| share of the service's CPU per job |",
        "|---|---|---|---|---|---|",
    ]
    total = 0.0
    for statement, row in results.items():
        total += row["orm_extra_ms_per_job"]
        lines.append(
            f"| {statement} (×{row['per_job']}) | {row['raw_ms']:.3f} ms | {row['orm_ms']:.3f} ms | "
            f"{row['orm_over_raw_median']:.2f} ({row['orm_over_raw_min']:.2f}–{row['orm_over_raw_max']:.2f}) | "
            f"{row['orm_extra_ms_per_job']:+.3f} ms | {row['orm_extra_ms_per_job'] / cpu_per_job_ms:+.1%} |"
        )
    lines.append(f"| all {len(results)} | | | | {total:+.3f} ms | {total / cpu_per_job_ms:+.1%} |")
    return "\n".join(lines)


def broker_block(results: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| Redis channel | CPU per message (publish + delivery + ack), median over rounds |",
            "|---|---|",
            f"| one client per channel (ours) | {results['ours_ms_per_message']:.3f} ms |",
            f"| a client per message (kombu's) | {results['kombu_ms_per_message']:.3f} ms: × "
            f"{results['kombu_over_ours_median']:.2f} (min–max {results['kombu_over_ours_min']:.2f}–"
            f"{results['kombu_over_ours_max']:.2f}) |",
        ]
    )


def service_block(results: dict[str, Any]) -> str:
    cpu, jobs = results["cpu_ms_per_job"], results["jobs_per_second"]
    return "\n".join(
        [
            "| measure | this run | reference (README) | ratio |",
            "|---|---|---|---|",
            f"| CPU per job, web + worker | {cpu:.2f} ms = {results['web_cpu_ms_per_job']:.2f} web + "
            f"{results['worker_cpu_ms_per_job']:.2f} worker | {REFERENCE['cpu_ms_per_job']:.2f} ms | "
            f"{cpu / REFERENCE['cpu_ms_per_job']:.3f} |",
            f"| jobs/s, 2 s model, first submission → last completion | {jobs:.1f} | "
            f"{REFERENCE['jobs_per_second']:.1f} | {jobs / REFERENCE['jobs_per_second']:.3f} |",
            f"| submission latency p50 / p99 | {results['submit_p50_ms']:.1f} / "
            f"{results['submit_p99_ms']:.1f} ms | | |",
            f"| pickup p50 / p99 | {results['pickup_p50_ms']:.1f} / {results['pickup_p99_ms']:.1f} ms | | |",
            f"| failed jobs (burst, one worker) / errors with 256 clients | {results['burst_failed']}, "
            f"{results['one_worker_failed']} / {results['errors_256_clients']} | | |",
        ]
    )


def floor_block(results: dict[str, Any]) -> str:
    http = results["http"]
    lines = ["| part of a followed result | server CPU |", "|---|---|"]
    lines += [f"| {part['part']} | {part['ms']:.2f} ms |" for part in results["parts"]]
    lines.append(f"| **floor: all of the above** | **{results['total_ms']:.2f} ms** |")
    return "\n".join(lines) + (
        f"\n\nThe HTTP part: {http['clients']} clients in a closed loop, {http['results_per_second']:.1f} "
        f"results/s, p50 {http['p50_s']:.2f} s, {http['errors']} errors."
    )


def budget_block(results: dict[str, Any]) -> str:
    loop = results["loop"]
    lines = [
        f"Closed loop: {loop['clients']} clients, {loop['results']} results ({loop['results_per_second']:.1f}/s), "
        f"server CPU per result {loop['server_cpu_ms_per_result']:.2f} ms (web {loop['web_cpu_ms_per_result']:.2f}), "
        f"{loop['errors']} errors.",
        "",
        "| process, thread or function (inclusive) | CPU per result | calls per result |",
        "|---|---|---|",
    ]
    for role, measured in results["roles"].items():
        threads = measured["threads"]
        lines.append(f"| **{role}** | **{sum(threads.values()):.2f} ms** | |")
        first = "its event loop" if role == "web" else "Celery's consumer (its first thread)"
        lines.append(f"| › {first} | {threads['main']:.2f} ms | |")
        lines.append(f"| › its other threads | {threads['other threads']:.2f} ms | |")
        for row in measured["functions"]:
            indent = "› " * (row["depth"] + 1)
            lines.append(f"| {indent}{row['label']} (`{row['function'].split(':')[1]}`) | {row['ms']:.2f} ms "
                         f"| {row['calls']:.2f} |")  # fmt: skip
    return "\n".join(lines)


RENDERERS = {
    "budget": budget_block,
    "floor": floor_block,
    "sdk-patches": sdk_block,
    "raw-sql": sql_block,
    "redis-client": broker_block,
    "service": service_block,
}


def refresh(measured: dict[str, Any], doc: Path = DOC) -> list[str]:
    """Replace the figures block of each measured decision; returns the names written."""
    text = doc.read_text()
    written = []
    for name, results in measured.items():
        block = f"{provenance()}\n\n{RENDERERS[name](results)}"
        pattern = re.compile(rf"(<!-- figures:{re.escape(name)} -->\n).*?(\n<!-- /figures:{re.escape(name)} -->)", re.S)
        text, count = pattern.subn(lambda found: f"{found.group(1)}{block}{found.group(2)}", text)  # noqa: B023
        if count:
            written.append(name)
    doc.write_text(text)
    return written
