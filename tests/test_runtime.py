"""Process tuning applied once the web server or a worker has started."""

from __future__ import annotations

import gc

from suite_ai.runtime import GC_THRESHOLDS, settle_garbage_collector


def test_settling_leaves_start_up_objects_out_of_collections_and_collects_less_often():
    before = gc.get_threshold()
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 10_000  # Django, DRF, Celery, the SDK… imported by the test run
        assert gc.get_threshold() == GC_THRESHOLDS
        assert all(new > old for new, old in zip(GC_THRESHOLDS, (700, 10, 10), strict=True))
        # Cycles made afterwards are still found and freed.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
