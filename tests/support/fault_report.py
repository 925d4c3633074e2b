"""What a fault test did to the jobs it submitted: submitted, succeeded, failed by code, lost
(never finished, or refused with a 5xx the client could not tell from a loss), duplicated (a
submission that made two rows, or a job that ended twice). Each fault test prints one line; with
``SUITE_AI_FAULT_REPORT`` set to a file, it also appends it there as JSON (bench/fault_bench.py
reads it to write the README's table)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class FaultReport:
    scenario: str
    submitted: int = 0
    accepted: int = 0  # 202
    refused: dict[str, int] = field(default_factory=dict)  # "<status> <code>" → count
    succeeded: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # error code → count
    lost: int = 0
    duplicated: int = 0

    def line(self) -> str:
        failed = ", ".join(f"{code} {n}" for code, n in sorted(self.failed.items())) or "0"
        refused = ", ".join(f"{what} {n}" for what, n in sorted(self.refused.items())) or "0"
        return (
            f"{self.scenario}: submitted {self.submitted}, accepted {self.accepted}, refused {refused}, "
            f"succeeded {self.succeeded}, failed {failed}, lost {self.lost}, duplicated {self.duplicated}"
        )

    def publish(self) -> None:
        print(self.line())
        path = os.environ.get("SUITE_AI_FAULT_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as file:
                file.write(json.dumps(asdict(self)) + "\n")


def tally(scenario: str, answers: list[tuple[int, dict[str, object]]], rows_created: int) -> FaultReport:
    """``answers``: each submission's status and JSON body, in order; ``rows_created``: how many
    job rows the submissions made (more rows than accepted submissions are duplicates)."""
    from suite_ai.jobs.models import Job, JobEvent

    report = FaultReport(scenario, submitted=len(answers))
    ids = []
    refused: Counter[str] = Counter()
    for status, body in answers:
        if status == 202:
            ids.append(str(body["id"]))
        else:
            refused[f"{status} {body.get('code', '?')}"] += 1
            if status >= 500 and body.get("code") != "storage_full" and status != 503:
                report.lost += 1  # a 500: the client cannot know whether its job exists
    report.accepted = len(ids)
    report.refused = dict(refused)
    jobs = {str(job.id): job for job in Job.objects.filter(id__in=ids)}
    report.lost += sum(1 for job_id in ids if job_id not in jobs or not jobs[job_id].is_finished)
    report.succeeded = sum(1 for job in jobs.values() if job.status == "succeeded")
    report.failed = dict(Counter(job.error_code for job in jobs.values() if job.status == "failed"))
    endings = Counter(
        JobEvent.objects.filter(job_id__in=ids, kind__in=["done", "failed", "cancelled"]).values_list(
            "job_id", flat=True
        )
    )
    report.duplicated = sum(1 for count in endings.values() if count > 1) + max(0, rows_created - len(ids))
    return report
