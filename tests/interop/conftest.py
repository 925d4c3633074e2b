"""One Node process per BlockNote version for the whole session (loading server-util takes ~1 s)."""

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
    """The real editor libraries, once per BlockNote version (0.54.x as Docs pins, and 0.55.x)."""
    return harness_pool[request.param]
