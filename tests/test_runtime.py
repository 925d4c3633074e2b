"""Process tuning applied once the web server or a worker has started: what the collector does after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from suite_ai.runtime import settle_garbage_collector

CPYTHON_DEFAULTS = (700, 10, 10)


@pytest.fixture(autouse=True)
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(*CPYTHON_DEFAULTS)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def _young_collections_while_allocating(containers: int) -> int:
    """Generation-0 collections that ``containers`` new, live container objects trigger."""
    collections = [0]

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 0:
            collections[0] += 1

    gc.callbacks.append(count)
    try:
        kept = [[] for _ in range(containers)]
    finally:
        gc.callbacks.remove(count)
    del kept
    return collections[0]


def _in_a_generation(obj: object) -> bool:
    """Whether the collector would walk ``obj`` (frozen objects are in no generation)."""
    return any(candidate is obj for candidate in gc.get_objects())


def test_settling_leaves_start_up_objects_out_of_collections_and_collects_less_often():
    start_up = [object()]  # a container that exists before the process settles
    assert _in_a_generation(start_up)
    assert _young_collections_while_allocating(5_000) >= 5  # CPython's defaults: one every 700

    settle_garbage_collector(python=(3, 13))

    assert gc.get_freeze_count() > 10_000  # Django, DRF, Celery, the SDK… imported by the test run
    assert not _in_a_generation(start_up) and gc.is_tracked(start_up)  # frozen, not forgotten
    assert gc.get_threshold() == (20_000, 20, 100)
    assert _young_collections_while_allocating(5_000) == 0
    assert _young_collections_while_allocating(45_000) >= 1  # still collected, less often
    later = [object()]
    assert _in_a_generation(later)  # objects made afterwards are walked as usual
    # Cycles made afterwards are still found and freed.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_from_python_3_14_only_the_freeze_applies():
    settle_garbage_collector(python=(3, 14, 0))
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == CPYTHON_DEFAULTS  # the incremental collector keeps its own pacing


def test_the_running_interpreter_decides_by_default():
    import sys

    settle_garbage_collector()
    expected = (20_000, 20, 100) if sys.version_info < (3, 14) else CPYTHON_DEFAULTS
    assert gc.get_threshold() == expected and gc.get_freeze_count() > 0
