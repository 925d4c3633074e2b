"""Tuning for the long-running processes (web server, Celery worker), applied once they have started."""

from __future__ import annotations

import gc
import logging
import sys

logger = logging.getLogger(__name__)

# Young-generation collections every 20,000 allocations instead of 700, and older generations
# 2 and 10 times less often than CPython's defaults (700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 100)
# Python 3.14's incremental collector reads threshold1/2 differently: these values suit the generational one.
THRESHOLDS_UP_TO = (3, 14)


def settle_garbage_collector(python: tuple[int, ...] | None = None) -> None:
    """Leave what start-up imported out of the cyclic collector's walks, and collect less often.

    A worker holds hundreds of thousands of objects once Django, Celery and the model SDK are
    imported, and each full collection walked them all; meanwhile the objects of the hundreds of
    jobs waiting on the model outlive a young collection and get promoted, which is what keeps
    triggering full ones. Freezing start-up objects and raising the thresholds removes most of
    that work (measured in docs/performance.md). Freed memory is unaffected: reference counting
    frees almost everything, the collector only finds cycles, later.

    ``python``: the interpreter version the thresholds are decided for (the running one by default).
    """
    gc.collect()
    gc.freeze()
    if (python or sys.version_info)[:2] < THRESHOLDS_UP_TO:
        gc.set_threshold(*GC_THRESHOLDS)
    logger.info(
        "garbage collector settled: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold()
    )
