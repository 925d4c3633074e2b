"""Whether a worker is alive, for ``/health/ready``: each worker process keeps a row up to date
(``runner.RUNNING``'s heartbeat thread), so the web processes can tell "no worker" and "workers
stopped beating" from "jobs are being picked up", whichever broker carries the jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from suite_ai.jobs.models import WorkerHeartbeat

# Rows of workers that stopped without a clean shutdown (killed, machine lost) are deleted by the
# next worker that starts once they are this old; until then ready reports them as stale.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class WorkersState:
    state: str  # "ok": a worker beat within max_age; "stale": none did, but some did before; "none"
    age_seconds: float | None  # since the most recent beat of any worker
    alive: int  # workers that beat within max_age

    def as_dict(self) -> dict[str, object]:
        age = None if self.age_seconds is None else round(self.age_seconds, 1)
        return {"state": self.state, "age_seconds": age, "alive": self.alive}


def started(name: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"started_at": now, "beat_at": now})


def beat(name: str) -> None:
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(name=name).update(beat_at=now):
        # Deleted under a running worker (by hand, or it was away longer than FORGET_AFTER).
        WorkerHeartbeat.objects.update_or_create(name=name, defaults={"started_at": now, "beat_at": now})


def stopped(name: str) -> None:
    WorkerHeartbeat.objects.filter(name=name).delete()


def state(max_age: float) -> WorkersState:
    now = timezone.now()
    latest = WorkerHeartbeat.objects.aggregate(latest=Max("beat_at"))["latest"]
    if latest is None:
        return WorkersState("none", None, 0)
    alive = WorkerHeartbeat.objects.filter(beat_at__gte=now - timedelta(seconds=max_age)).count()
    age = max(0.0, (now - latest).total_seconds())
    return WorkersState("ok" if alive else "stale", age, alive)
