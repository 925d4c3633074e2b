"""One Node process per BlockNote version for the whole session (loading server-util is the slow part)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop.harness import VERSIONS, HarnessPool, NodeHarness


@pytest.fixture(scope="session")
def harness_pool() -> Iterator[HarnessPool]:
    pool = HarnessPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session", params=VERSIONS, ids=[f"blocknote-{v}" for v in VERSIONS])
def node(request: pytest.FixtureRequest, harness_pool: HarnessPool) -> NodeHarness:
    """The real editor libraries, once per BlockNote version (0.51.4 as Docs 5.4.1 pins, 0.54.x, 0.55.0)."""
    return harness_pool[request.param]
