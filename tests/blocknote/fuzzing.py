"""The hypothesis settings of the fuzzers: derandomized (the same examples on every run, so CI is
reproducible and bounded), no example database, no per-example deadline on a loaded CI machine.
``SUITE_AI_FUZZ_EXAMPLES`` raises the number of examples for a longer local hunt (then also set
``SUITE_AI_FUZZ_RANDOM=1`` to explore beyond the fixed examples)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_EXAMPLES = int(os.environ.get("SUITE_AI_FUZZ_EXAMPLES", "0"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=_EXAMPLES or examples,
        derandomize=not os.environ.get("SUITE_AI_FUZZ_RANDOM"),
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
