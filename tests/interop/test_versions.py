"""The interop suite really runs the versions it claims to."""

from __future__ import annotations

import json

import pytest

from tests.interop.harness import INTEROP_DIR, NodeHarness

pytestmark = pytest.mark.interop


def test_pinned_versions_are_the_ones_loaded(node: NodeHarness) -> None:
    versions = node.call("versions")
    expected = {"0.51": ("0.51.4", "0.51.4"), "0.54": ("0.54.2", "0.54.0"), "0.55": ("0.55.0", "0.55.0")}[node.version]
    assert (versions["core"], versions["serverUtil"]) == expected
    assert versions["yjs"] == "13.6.33"


def test_lockfile_is_committed_next_to_package_json() -> None:
    lock = json.loads((INTEROP_DIR / "package-lock.json").read_text())
    package = json.loads((INTEROP_DIR / "package.json").read_text())
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    assert lock["packages"]["node_modules/bn054-server-util"]["version"] == "0.54.0"
    assert lock["packages"]["node_modules/bn051-server-util"]["version"] == "0.51.4"
    # server-util pins its core exactly; La Suite Docs 5.4.1 runs core 0.51.4.
    assert lock["packages"]["node_modules/bn051-server-util/node_modules/@blocknote/core"]["version"] == "0.51.4"
